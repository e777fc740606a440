// What a client may never tell the upstream: who the user is, or where the request came from.
// Pure: works on a plain header object.

/** Headers that name a client address, host, scheme or original URL: set only by the gateway. */
const FORWARDING_HEADERS = new Set([
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-uri',
  'x-real-ip',
  'x-client-ip',
  'x-original-url',
  'x-original-uri',
  'x-rewrite-url',
  'x-original-host',
])

/**
 * Hop-by-hop headers of the client's connection (RFC 9110 §7.6.1, and the legacy Proxy-Connection):
 * they describe that connection, not the request, and undici refuses several of them outright.
 * Expect is answered by the gateway itself (Node sends the 100 Continue), so it is not passed on.
 * Connection, and the headers it lists, are removed too (clientHeadersForUpstream), before the
 * gateway adds its own: a client cannot name one of ours away.
 */
const HOP_BY_HOP = new Set([
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'expect',
])

export interface StripRules {
  /** lower-case, "-" form, e.g. ["x-psc-"] */
  prefixes: readonly string[]
  /** every header the gateway sets itself, lower-case "-" form */
  exact: ReadonlySet<string>
}

export function compileStripRules(prefixes: readonly string[], ownHeaders: readonly string[]): StripRules {
  const canon = (h: string) => h.toLowerCase().replaceAll('_', '-')
  return { prefixes: prefixes.map(canon), exact: new Set([...ownHeaders.map(canon), ...FORWARDING_HEADERS]) }
}

/**
 * Node lower-cases header names but keeps "_": some servers (CGI, PHP, nginx with
 * underscores_in_headers) read X_PSC_IdNat as X-PSC-IdNat, so both spellings are removed.
 */
export function isGatewayOwnedHeader(name: string, rules: StripRules): boolean {
  const canon = name.includes('_') ? name.toLowerCase().replaceAll('_', '-') : name.toLowerCase()
  if (rules.exact.has(canon)) return true
  for (const p of rules.prefixes) if (canon.startsWith(p)) return true
  return false
}

type Headers = Record<string, string | string[] | undefined>

/**
 * The client's headers as the upstream may see them, in a new object: none in the gateway's
 * namespace, none of the forwarding headers, no hop-by-hop header (Connection and the headers it
 * names among them), and the Cookie header without the gateway's cookies. Names come from Node,
 * lower-cased.
 * A new object rather than deletes on the client's: a delete (or an undefined stored where a
 * string was) turns a header object into a slow dictionary (or deprecates its hidden class), and
 * undici walks it again on every request.
 */
export function clientHeadersForUpstream(
  headers: Headers,
  rules: StripRules,
  ownCookies: ReadonlySet<string>,
): Headers {
  const out: Headers = {}
  const named = namedByConnection(headers.connection)
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined || name === 'connection' || HOP_BY_HOP.has(name) || isGatewayOwnedHeader(name, rules))
      continue
    if (named?.includes(name)) continue
    if (name === 'cookie' && typeof value === 'string') {
      const kept = withoutCookies(value, ownCookies)
      if (kept !== undefined) out.cookie = kept
      continue
    }
    out[name] = value
  }
  return out
}

/** The header names a Connection header lists, lower-case; undefined for none beyond Keep-Alive. */
function namedByConnection(connection: string | string[] | undefined): string[] | undefined {
  // "keep-alive", what most clients send: Keep-Alive is removed anyway
  if (connection === undefined || connection === 'keep-alive') return undefined
  const names: string[] = []
  for (const token of (typeof connection === 'string' ? connection : connection.join(',')).split(','))
    if (token.trim() !== '') names.push(token.trim().toLowerCase())
  return names
}

/**
 * Removes the gateway's own cookies from a Cookie header: the session id is a credential. A header
 * without any of them is forwarded as the client sent it. Runs on every request (one scan, no
 * arrays): the session cookie is in nearly every request's header.
 */
export function withoutCookies(cookieHeader: string, names: ReadonlySet<string>): string | undefined {
  let kept = ''
  let removed = false
  let start = 0
  const length = cookieHeader.length
  while (start < length) {
    let end = cookieHeader.indexOf(';', start)
    if (end === -1) end = length
    const part = cookieHeader.slice(start, end).trim()
    start = end + 1
    if (part === '') continue
    const eq = part.indexOf('=')
    const name = (eq === -1 ? part : part.slice(0, eq)).trimEnd()
    if (name === '' || names.has(name)) {
      removed = true
      continue
    }
    kept = kept === '' ? part : `${kept}; ${part}`
  }
  if (!removed) return cookieHeader
  return kept === '' ? undefined : kept
}
