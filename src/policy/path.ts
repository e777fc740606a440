// Request-target normalisation: the one path the gateway both authorises and forwards.
//
// Decisions (each closes a known way to make a gateway and an upstream disagree about a path):
// - origin-form only: the target starts with "/"; absolute-form, "*" and "" are refused.
// - refused anywhere in the target: "#", control characters, raw non-ASCII, and raw space.
// - refused in the path: "\" raw or %5C; encoded "/" (%2F); encoded control characters (%00-%1F,
//   %7F); invalid percent-encodings ("%zz", "%4"); percent-encoded bytes that are not valid UTF-8
//   (overlong "%C0%AE" is how old decoders were tricked into a "."); ".." above the root.
// - ";" is refused, raw or %3B: Tomcat/Spring-style upstreams strip path parameters, so "/admin;x"
//   would be authorised as the segment "admin;x" and served as "/admin".
// - percent-encoded unreserved characters (ALPHA DIGIT - . _ ~) are decoded, other escapes keep
//   their byte and get upper-case hex ("%3a" → "%3A"). Decoding happens once: "%252e" stays
//   "%252e" (a literal "%2e" for the upstream, never a dot).
// - characters that RFC 3986 does not allow raw in a path ("<", ">", '"', "^", "`", "{", "|", "}",
//   "[", "]") are percent-encoded, so that both spellings authorise alike.
// - repeated "/" collapse; "." and ".." segments (also as %2E) are resolved (RFC 3986 5.2.4).
// - a segment that ends in "." or in an encoded space ("/admin.", "/admin%2e", "/admin%20") is
//   refused: Windows servers (IIS, Kestrel on Windows) strip them and would serve "/admin".
//   A segment that starts with ".." ("/..b") is refused too: no real path needs it, and naive
//   traversal checks downstream (the proxy library's own among them) refuse it after we allowed it.
// - case is preserved: matching is case-sensitive ("/ADMIN" is not "/admin"), as most upstreams are.
// - a trailing "/" is kept as written; "/a/." and "/a/b/.." end with "/" as in RFC 3986.
// - the query (from the first "?", included) is kept byte for byte and never used for routing.
// The result is idempotent: normalising a normalised path gives it back unchanged.

export type NormalizedTarget = { ok: true; path: string; query: string } | { ok: false; reason: string }

const HEX = '0123456789ABCDEF'

// 1: unreserved (decode when escaped, keep when raw); 2: allowed raw (sub-delims ":" "@");
// 3: encode when raw; 0: refuse raw (handled separately: "/" "%" ";" "\" "?" "#").
const CLASS = new Uint8Array(128)
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c)
  if (/[A-Za-z0-9\-._~]/.test(ch)) CLASS[c] = 1
  else if ("!$&'()*+,=:@".includes(ch)) CLASS[c] = 2
  else if ('<>"^`{|}[]'.includes(ch)) CLASS[c] = 3
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 65 && c <= 70) return c - 55
  if (c >= 97 && c <= 102) return c - 87
  return -1
}

function fail(reason: string): NormalizedTarget {
  return { ok: false, reason }
}

export function normalizeRequestTarget(rawTarget: string): NormalizedTarget {
  if (typeof rawTarget !== 'string' || rawTarget.length === 0) return fail('empty request target')
  if (rawTarget.charCodeAt(0) !== 47) return fail('request target must be an absolute path starting with "/"')

  // Whole target: no fragment, no control characters, no raw non-ASCII, no raw space.
  let queryStart = -1
  for (let i = 0; i < rawTarget.length; i++) {
    const c = rawTarget.charCodeAt(i)
    if (c <= 0x20 || c >= 0x7f) return fail(c >= 0x80 ? 'raw non-ASCII character' : 'control character or space')
    if (c === 35) return fail('"#" is not allowed in a request target')
    if (c === 63 && queryStart === -1) queryStart = i
  }
  const pathEnd = queryStart === -1 ? rawTarget.length : queryStart
  const query = queryStart === -1 ? '' : rawTarget.slice(queryStart)

  const segments: string[] = []
  let segment = ''
  let trailingSlash = false
  // UTF-8 validation of percent-encoded bytes: continuation bytes still expected, and the range
  // the next one must be in (the tight first ranges exclude overlong forms and surrogates).
  let need = 0
  let lo = 0x80
  let hi = 0xbf

  const endSegment = (last: boolean): NormalizedTarget | undefined => {
    if (need > 0) return fail('invalid UTF-8 in percent-encoding')
    if (segment === '' || segment === '.') {
      trailingSlash = true
    } else if (segment === '..') {
      if (segments.length === 0) return fail('".." goes above the root')
      segments.pop()
      trailingSlash = true
    } else if (segment.endsWith('.') || segment.endsWith('%20')) {
      return fail('a path segment may not end in "." or a space (Windows servers strip them)')
    } else if (segment.startsWith('..')) {
      return fail('a path segment may not start with ".."')
    } else {
      segments.push(segment)
      trailingSlash = false
    }
    if (last && segment === '' && segments.length === 0) trailingSlash = false
    segment = ''
    return undefined
  }

  for (let i = 1; i < pathEnd; i++) {
    const c = rawTarget.charCodeAt(i)
    if (c === 47) {
      // "/"
      const r = endSegment(false)
      if (r !== undefined) return r
      continue
    }
    if (c === 37) {
      // "%"
      const h1 = i + 1 < pathEnd ? hexValue(rawTarget.charCodeAt(i + 1)) : -1
      const h2 = i + 2 < pathEnd ? hexValue(rawTarget.charCodeAt(i + 2)) : -1
      if (h1 < 0 || h2 < 0) return fail('invalid percent-encoding')
      const b = h1 * 16 + h2
      i += 2
      if (b >= 0x80) {
        if (need > 0) {
          if (b < lo || b > hi) return fail('invalid UTF-8 in percent-encoding')
          need--
          lo = 0x80
          hi = 0xbf
        } else if (b >= 0xc2 && b <= 0xdf) {
          need = 1
        } else if (b === 0xe0) {
          need = 2
          lo = 0xa0
        } else if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) {
          need = 2
        } else if (b === 0xed) {
          need = 2
          hi = 0x9f
        } else if (b === 0xf0) {
          need = 3
          lo = 0x90
        } else if (b >= 0xf1 && b <= 0xf3) {
          need = 3
        } else if (b === 0xf4) {
          need = 3
          hi = 0x8f
        } else {
          return fail('invalid UTF-8 in percent-encoding')
        }
        segment += `%${HEX[b >> 4]!}${HEX[b & 15]!}`
        continue
      }
      if (need > 0) return fail('invalid UTF-8 in percent-encoding')
      if (b === 0x2f) return fail('encoded "/" (%2F) is not accepted')
      if (b === 0x5c) return fail('encoded "\\" (%5C) is not accepted')
      if (b === 0x3b) return fail('path parameters (;) are not accepted')
      if (b < 0x20 || b === 0x7f) return fail('encoded control character')
      if (CLASS[b] === 1) segment += String.fromCharCode(b)
      else segment += `%${HEX[b >> 4]!}${HEX[b & 15]!}`
      continue
    }
    if (need > 0) return fail('invalid UTF-8 in percent-encoding')
    if (c === 92) return fail('"\\" is not accepted in a path')
    if (c === 59) return fail('path parameters (;) are not accepted')
    const cls = CLASS[c]
    if (cls === 1 || cls === 2) segment += rawTarget[i]
    else if (cls === 3) segment += `%${HEX[c >> 4]!}${HEX[c & 15]!}`
    else return fail('character not allowed in a path')
  }
  const r = endSegment(true)
  if (r !== undefined) return r

  let path = `/${segments.join('/')}`
  if (trailingSlash && segments.length > 0) path += '/'
  return { ok: true, path, query }
}
