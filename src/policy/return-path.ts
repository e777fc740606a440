// The "rd" parameter of /login: where to send the browser back after login. Only a path on this
// very origin is accepted; anything a browser could read as another origin ("//evil", "/\evil",
// "https:evil", encoded slashes and whitespace that some layer decodes later) is refused.

const MAX_LENGTH = 2048
const BASE = 'https://gateway.example'
// Encoded "/" or "\", and encoded control characters and space in the PATH: harmless for WHATWG
// URL, but a layer that decodes once more (a framework, a logging tool, an old browser) sees "//"
// or a break. In the query they are ordinary data (a search for "jean dupont", a file path) and
// can never change the origin: the query is left as it is.
const DANGEROUS_ESCAPE = /%(2f|5c|[01][0-9a-f]|20|7f)/i

/** `rd` when it is a safe same-origin path (returned unchanged), otherwise undefined. */
export function safeReturnPath(rd: unknown): string | undefined {
  if (typeof rd !== 'string' || rd.length === 0 || rd.length > MAX_LENGTH) return undefined
  if (rd.charCodeAt(0) !== 47) return undefined // "/"
  const second = rd.charCodeAt(1)
  if (second === 47 || second === 92) return undefined // "//" or "/\"
  for (let i = 0; i < rd.length; i++) {
    const c = rd.charCodeAt(i)
    // control characters, space and beyond ASCII (the WHATWG parser strips tabs and newlines)
    if (c <= 0x20 || c >= 0x7f || c === 92) return undefined
  }
  const q = rd.indexOf('?')
  if (DANGEROUS_ESCAPE.test(q === -1 ? rd : rd.slice(0, q))) return undefined
  let url: URL
  try {
    url = new URL(rd, BASE)
  } catch {
    return undefined
  }
  if (url.origin !== BASE) return undefined
  // "/a/..//evil" resolves to the path "//evil": fine as a Location reference, but one
  // re-serialisation away from a protocol-relative URL.
  if (url.pathname.startsWith('//')) return undefined
  return rd
}
