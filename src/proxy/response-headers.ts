// What an upstream answers, made safe to send on: Node throws on a header value with a control
// character, which would turn one bad upstream header into a failed response; and the upstream's
// hop-by-hop headers describe its connection to the gateway, not the client's. Pure.

/** Characters allowed in a header value (RFC 9110 field-value): HTAB, SP to "~", obs-text. */
const NOT_FIELD_VALUE = /[^\t\x20-\x7e\x80-\xff]/g
const HAS_NOT_FIELD_VALUE = /[^\t\x20-\x7e\x80-\xff]/

function cleanValue(value: string): string {
  return HAS_NOT_FIELD_VALUE.test(value) ? value.replace(NOT_FIELD_VALUE, '') : value
}

/**
 * Hop-by-hop headers (RFC 9110 7.6.1, and the older Keep-Alive, Proxy-Connection, Trailer): they
 * speak of one connection. The client's connection semantics (HTTP/1.0, Connection: close) are
 * Node's to answer, never the upstream's "keep-alive, timeout=5". Upgrade too: WebSocket upgrades
 * go through the WebSocket proxy, not here. Transfer-Encoding: Node frames the answer itself.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-authenticate',
])

/** The names the upstream's Connection header lists beyond the usual hop-by-hop ones, lower-case. */
function namedByConnection(connection: unknown): string[] | undefined {
  const named =
    typeof connection === 'string' ? connection : Array.isArray(connection) ? connection.join(',') : undefined
  // "keep-alive" and "close", nearly every answer: nothing more to remove
  if (named === undefined || named === 'keep-alive' || named === 'close') return undefined
  const names: string[] = []
  for (const token of named.split(',')) {
    const name = token.trim().toLowerCase()
    if (name !== '' && !HOP_BY_HOP.has(name)) names.push(name)
  }
  return names.length === 0 ? undefined : names
}

/**
 * The upstream's headers without its hop-by-hop headers (and those its Connection header names)
 * and without the characters a header value may not carry. Names come from undici, lower-cased.
 * A new object rather than deletes on undici's: every upstream answer has Connection and
 * Keep-Alive, and a delete turns the object into a slow dictionary that is then walked again.
 * Arrays (set-cookie) are cleaned element by element; numbers are left as they are.
 */
export function sanitizeResponseHeaders<H extends Record<string, unknown>>(headers: H): H {
  const named = namedByConnection(headers.connection)
  const out: Record<string, unknown> = {}
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || named?.includes(name)) continue
    const value = headers[name]
    if (typeof value === 'string') out[name] = cleanValue(value)
    else if (Array.isArray(value) && value.some((v) => typeof v === 'string' && HAS_NOT_FIELD_VALUE.test(v)))
      out[name] = value.map((v: unknown) => (typeof v === 'string' ? cleanValue(v) : v))
    else out[name] = value
  }
  return out as H
}
