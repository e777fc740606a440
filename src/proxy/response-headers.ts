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
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-authenticate',
] as const

function removeHopByHop(headers: Record<string, unknown>): void {
  // and every header the upstream's Connection header names (RFC 9110 7.6.1)
  const connection = headers.connection
  const named =
    typeof connection === 'string' ? connection : Array.isArray(connection) ? connection.join(',') : undefined
  if (named !== undefined) {
    for (const token of named.split(',')) {
      const name = token.trim().toLowerCase()
      if (name !== '') delete headers[name]
    }
  }
  for (const name of HOP_BY_HOP) if (name in headers) delete headers[name]
}

/**
 * Removes the upstream's hop-by-hop headers and the characters a header value may not carry, in
 * place (reply-from hands over its own copy), and returns the same object. Arrays (set-cookie) are
 * cleaned element by element; numbers are left as they are.
 */
export function sanitizeResponseHeaders<H extends Record<string, unknown>>(headers: H): H {
  const writable = headers as Record<string, unknown>
  removeHopByHop(writable)
  for (const name in writable) {
    const value = writable[name]
    if (typeof value === 'string') {
      const clean = cleanValue(value)
      if (clean !== value) writable[name] = clean
    } else if (Array.isArray(value)) {
      if (value.some((v) => typeof v === 'string' && HAS_NOT_FIELD_VALUE.test(v))) {
        writable[name] = value.map((v: unknown) => (typeof v === 'string' ? cleanValue(v) : v))
      }
    }
  }
  return headers
}
