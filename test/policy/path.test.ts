import t from 'tap'
import fc from 'fast-check'
import { normalizeRequestTarget } from '../../src/policy/path.js'

const accept: Array<[string, string, string?]> = [
  // [raw target, path, query]
  ['/', '/'],
  ['/a/b', '/a/b'],
  ['/a/b/', '/a/b/'],
  ['/admin/../x', '/x'],
  ['/a/./b', '/a/b'],
  ['/a/.', '/a/'],
  ['/a/b/..', '/a/'],
  ['/a/..', '/'],
  ['/.', '/'],
  ['//admin', '/admin'],
  ['/a//b///c', '/a/b/c'],
  ['/a//', '/a/'],
  ['/%2e%2e/x'.replace('/%2e%2e', '/a/%2e%2e'), '/x'],
  ['/a/%2E%2e/b', '/b'],
  ['/a/%2e/b', '/a/b'],
  ['/%252e', '/%252e'],
  ['/%252e%252e/admin', '/%252e%252e/admin'],
  ['/%61%64min', '/admin'],
  ['/%7euser', '/~user'],
  ['/a%3ab', '/a%3Ab'],
  ['/a%3Ab', '/a%3Ab'],
  ['/%23', '/%23'],
  ['/%3f', '/%3F'],
  ['/%25', '/%25'],
  ['/ADMIN', '/ADMIN'],
  ['/caf%c3%a9', '/caf%C3%A9'],
  ['/%f0%9f%98%80', '/%F0%9F%98%80'],
  ['/a{b}', '/a%7Bb%7D'],
  ['/a%7Bb', '/a%7Bb'],
  ["/a!$&'()*+,=:@b", "/a!$&'()*+,=:@b"],
  ['/public?x=/admin', '/public', '?x=/admin'],
  ['/public?', '/public', '?'],
  ['/a?b=%zz&c=..%2f', '/a', '?b=%zz&c=..%2f'],
  ['/x/..?q', '/', '?q'],
  ['/v1.2/x', '/v1.2/x'],
  ['/.well-known/x', '/.well-known/x'],
  ['/a%20b', '/a%20b'],
]

const reject: Array<[string, RegExp]> = [
  ['', /empty/],
  ['*', /absolute path/],
  ['http://evil/admin', /absolute path/],
  ['a/b', /absolute path/],
  ['/..', /above the root/],
  ['/../admin', /above the root/],
  ['/a/../../admin', /above the root/],
  ['/%2e%2e/admin', /above the root/],
  ['/public/..%2fadmin', /encoded "\/"/],
  ['/a%2fb', /encoded "\/"/],
  ['/a%2Fb', /encoded "\/"/],
  ['/a\\b', /"\\"/],
  ['/..\\admin', /"\\"/],
  ['/a%5cb', /encoded "\\"/],
  ['/a%5Cb', /encoded "\\"/],
  ['/admin;x', /path parameters/],
  ['/admin;jsessionid=1/x', /path parameters/],
  ['/admin%3bx', /path parameters/],
  ['/a%00b', /control/],
  ['/a%0ab', /control/],
  ['/a%7fb', /control/],
  ['/a\u0000b', /control/],
  ['/a\tb', /control/],
  ['/a b', /control|space/],
  ['/a\u007fb', /control/],
  ['/café', /non-ASCII/],
  ['/a#b', /"#"/],
  ['/a?b#c', /"#"/],
  ['/a%zz', /percent/],
  ['/a%4', /percent/],
  ['/a%', /percent/],
  ['/a%4g', /percent/],
  ['/%c0%ae%c0%ae/admin', /UTF-8/],
  ['/%c0%af', /UTF-8/],
  ['/%e0%80%ae', /UTF-8/],
  ['/%ed%a0%80', /UTF-8/],
  ['/%c3', /UTF-8/],
  ['/%c3/', /UTF-8/],
  ['/%c3a', /UTF-8/],
  ['/%80', /UTF-8/],
  ['/%ff', /UTF-8/],
  // trailing dots and spaces: IIS and other Windows servers serve "/admin." as "/admin"
  ['/admin.', /end in "\."/],
  ['/admin./x', /end in "\."/],
  ['/admin%2e', /end in "\."/],
  ['/admin...', /end in "\."/],
  ['/admin%20', /space/],
  ['/admin%20/x', /space/],
  ['/..b', /start with "\.\."/],
  ['/a/%2e%2eb/x', /start with "\.\."/],
]

t.test('accepted targets', async (t) => {
  for (const [raw, path, query = ''] of accept) {
    t.same(normalizeRequestTarget(raw), { ok: true, path, query }, raw)
  }
})

t.test('rejected targets', async (t) => {
  for (const [raw, reason] of reject) {
    const r = normalizeRequestTarget(raw)
    t.equal(r.ok, false, JSON.stringify(raw))
    if (!r.ok) t.match(r.reason, reason, JSON.stringify(raw))
  }
})

const targetChars = fc.constantFrom(
  '/',
  '/',
  '.',
  '..',
  '%2e',
  '%2E',
  '%2f',
  '%5c',
  '%25',
  '%3a',
  '%41',
  '%c3%a9',
  '%c0%ae',
  'a',
  'B',
  '~',
  ';',
  '\\',
  '?',
  '#',
  '%',
  '%0',
  ':',
  '@',
  '{',
  ' ',
  '\t',
  'é',
  '_',
  '-',
  '%7e',
  '%20',
  'admin',
  '...',
)
const targets = fc.array(targetChars, { maxLength: 20 }).map((parts) => `/${parts.join('')}`)

t.test('properties of normalised paths', async (t) => {
  fc.assert(
    fc.property(targets, (raw) => {
      const r = normalizeRequestTarget(raw)
      if (!r.ok) return true
      const again = normalizeRequestTarget(r.path)
      if (!again.ok || again.path !== r.path || again.query !== '') return false
      const segments = r.path.split('/').slice(1)
      if (segments.some((s) => s === '.' || s === '..' || s.endsWith('.') || s.endsWith('%20') || s.startsWith('..')))
        return false
      return (
        !r.path.includes('//') &&
        !r.path.includes('\\') &&
        !/%2f/i.test(r.path) &&
        !r.path.includes('#') &&
        !r.path.includes(';') &&
        r.path.startsWith('/')
      )
    }),
    { numRuns: 5000 },
  )
  t.pass('idempotent, no dot segments, no //, \\, %2F, #, ;')
})

t.test('never throws on arbitrary strings', async (t) => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => {
      normalizeRequestTarget(s)
      normalizeRequestTarget(`/${s}`)
      return true
    }),
    { numRuns: 5000 },
  )
  t.pass()
})

t.test('query is kept byte for byte', async (t) => {
  fc.assert(
    fc.property(fc.stringMatching(/^[A-Za-z0-9=&%/.?]*$/), (q) => {
      const r = normalizeRequestTarget(`/p?${q}`)
      return r.ok && r.query === `?${q}` && r.path === '/p'
    }),
  )
  t.pass()
})
