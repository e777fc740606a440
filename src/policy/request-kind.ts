// What kind of request this is, from the headers a browser sets: only a navigation may be sent to
// PSC's login page; a sub-resource (the favicon, an image, a script) or an API call must not start
// a login, fill the audit with login starts and use up the login rate limit.

export type RequestKind = 'navigation' | 'subresource' | 'websocket'

export interface KindHeaders {
  upgrade?: string | string[] | undefined
  'sec-fetch-mode'?: string | string[] | undefined
  'sec-fetch-dest'?: string | string[] | undefined
  'x-requested-with'?: string | string[] | undefined
  accept?: string | string[] | undefined
}

export function requestKind(headers: KindHeaders): RequestKind {
  const upgrade = headers.upgrade
  if (typeof upgrade === 'string' && upgrade.toLowerCase() === 'websocket') return 'websocket'
  const mode = headers['sec-fetch-mode']
  // Every current browser sends Sec-Fetch-Mode; "navigate" is a top-level or frame navigation.
  if (mode !== undefined) return mode === 'navigate' ? 'navigation' : 'subresource'
  // Older clients: an XHR, a JSON API caller, or a request for an image is not a navigation.
  if (headers['x-requested-with'] !== undefined) return 'subresource'
  const accept = headers.accept
  if (typeof accept !== 'string') return 'navigation'
  if (accept.includes('text/html')) return 'navigation'
  if (accept.includes('application/json') || accept.startsWith('image/') || accept.startsWith('text/css'))
    return 'subresource'
  return 'navigation'
}
