// What an upstream answers, made safe to send on: Node throws on a header value with a control
// character, which would turn one bad upstream header into a failed response. Pure.

/** Characters allowed in a header value (RFC 9110 field-value): HTAB, SP to "~", obs-text. */
const NOT_FIELD_VALUE = /[^\t\x20-\x7e\x80-\xff]/g
const HAS_NOT_FIELD_VALUE = /[^\t\x20-\x7e\x80-\xff]/

function cleanValue(value: string): string {
  return HAS_NOT_FIELD_VALUE.test(value) ? value.replace(NOT_FIELD_VALUE, '') : value
}

/**
 * Removes the characters a header value may not carry, in place (reply-from hands over its own
 * copy), and returns the same object. Arrays (set-cookie) are cleaned element by element; numbers
 * are left as they are.
 */
export function sanitizeResponseHeaders<H extends Record<string, unknown>>(headers: H): H {
  const writable = headers as Record<string, unknown>
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
