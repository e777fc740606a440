// Attack class 3: open redirects. `rd` (where the browser goes after login) accepts same-origin
// relative paths only; the post-logout target is not taken from the request at all. Checked with
// the WHATWG URL parser, the way a browser resolves a Location header.
import { unsign } from '@fastify/cookie'
import fc from 'fast-check'
import t from 'tap'
import { decodeTransactions } from '../../src/oidc/transaction.js'
import { safeReturnPath } from '../../src/policy/return-path.js'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { rawGet } from '../helpers/raw-http.js'
import { SESSION_SECRET, startStack, type Stack } from '../helpers/stack.js'

const ORIGIN = 'https://gw.example'
// Where a browser stands when it reads the Location of the callback's redirect.
const BASES = [`${ORIGIN}/_psc/callback?code=abc&state=def`, `${ORIGIN}/`, `${ORIGIN}/a/b/c/`]

const EVIL = [
  '//evil.example',
  '//evil.example/x',
  '///evil.example',
  '////evil.example',
  '/\\evil.example',
  '\\/evil.example',
  '\\\\evil.example',
  '/\\/evil.example',
  'https:evil.example',
  'https:/evil.example',
  'https://evil.example',
  'http://evil.example',
  'HTTPS://evil.example',
  '%2f%2fevil.example',
  '/%2f/evil.example',
  '/%2F%2Fevil.example',
  '/%5c/evil.example',
  '/%5Cevil.example',
  '/%09/evil.example',
  '/\t/evil.example',
  '/\n/evil.example',
  '/\r\n/evil.example',
  '/%0a/evil.example',
  '/%0d/evil.example',
  '/%20/evil.example',
  '/%00/evil.example',
  '/%7f',
  ' //evil.example',
  '\t//evil.example',
  '/ /evil.example',
  '/\u00a0/evil.example',
  '/\u3000/evil.example',
  '/\u2028/evil.example',
  '/\uff0f/evil.example',
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  ' javascript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'vbscript:x',
  '/a/..//evil.example',
  '/./\\evil.example',
  '/.//evil.example',
  '//evil.example@gw.example',
  'evil.example',
  '.evil.example',
  '?x',
  '#x',
  '',
  `/${'a'.repeat(3000)}`,
]

// test names stay printable ASCII: U+2028 in a name would break the TAP stream
const show = (s: string) =>
  JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

t.test('the list a browser would follow to another origin, and its near misses, are all refused', async (t) => {
  for (const rd of EVIL) t.equal(safeReturnPath(rd), undefined, show(rd))
  // The refusal is not arbitrary: each of these either leaves the origin for a browser, or does
  // after one more percent-decoding, or carries bytes a browser strips or rewrites.
  const leaves = EVIL.filter((rd) =>
    BASES.some((b) => {
      try {
        return new URL(rd, b).origin !== ORIGIN
      } catch {
        return true
      }
    }),
  )
  t.ok(leaves.length >= 20, `${leaves.length} of them resolve to another origin in the WHATWG parser`)
})

t.test('property: nothing accepted ever resolves to another origin, even after one more decoding', async (t) => {
  const pieces = fc.constantFrom(
    '/',
    '//',
    '\\',
    '.',
    '..',
    '%2f',
    '%2F',
    '%5c',
    '%09',
    '%0a',
    '%2e',
    '%25',
    '%252f',
    ':',
    '@',
    'evil.example',
    'https:',
    'javascript:',
    '\t',
    '\n',
    ' ',
    '?',
    '#',
    'a',
    '%',
    '\u00a0',
    '\uff0f',
    'é',
  )
  const candidates = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.array(pieces, { maxLength: 14 }).map((p) => p.join('')),
  )
  fc.assert(
    fc.property(candidates, (rd) => {
      const ok = safeReturnPath(rd)
      if (ok === undefined) return true
      let once: string
      try {
        once = decodeURIComponent(ok)
      } catch {
        once = ok
      }
      return (
        ok === rd &&
        BASES.every(
          (b) =>
            new URL(ok, b).origin === ORIGIN &&
            new URL(once, b).origin === ORIGIN &&
            !new URL(ok, b).pathname.startsWith('//'),
        )
      )
    }),
    { numRuns: 20000 },
  )
  t.pass()
})

let stack: Stack
t.before(async () => {
  stack = await startStack()
})
t.teardown(() => stack.close())

async function returnToOf(rd: string): Promise<string | undefined> {
  const res = await rawGet(stack.url, `/_psc/login?rd=${encodeURIComponent(rd)}`)
  const cookie = res.response?.setCookie.find((c) => c.startsWith('psc_login='))
  if (!cookie) return undefined
  const value = decodeURIComponent(cookie.slice('psc_login='.length, cookie.indexOf(';')))
  const unsigned = unsign(value, SESSION_SECRET)
  return unsigned.valid && unsigned.value ? decodeTransactions(unsigned.value, Date.now())[0]?.returnTo : undefined
}

t.test('over HTTP: a dangerous rd is replaced by "/" in the login transaction, a good one is kept', async (t) => {
  for (const rd of EVIL.filter((r) => r.length < 100)) t.equal(await returnToOf(rd), '/', show(rd))
  for (const rd of ['/dossier?id=1', '/public/x', '/a/b#c', '/@evil.example']) t.equal(await returnToOf(rd), rd, rd)
  // And raw bytes that never went through encodeURIComponent
  const raw = await rawGet(stack.url, '/_psc/login?rd=//evil.example')
  t.equal(raw.response?.status, 302)
  t.ok(raw.response?.headers.location?.startsWith(stack.emulator!.issuer), 'off to PSC, not to evil')
})

t.test('after a real login with rd=//evil.example the browser lands on "/" of the gateway', async (t) => {
  const client = new BrowserLikeClient()
  const landed = await loginThroughEmulator(
    client,
    `${stack.url}/_psc/login?rd=${encodeURIComponent('/\\evil.example')}`,
    '899700218896',
  )
  t.equal(new URL(landed.url).origin, stack.url)
  t.equal(new URL(landed.url).pathname, '/')
})

t.test('the post-logout target is fixed by configuration, whatever the request says', async (t) => {
  for (const q of [
    '?rd=//evil.example',
    '?post_logout_redirect_uri=https://evil.example',
    '?next=https://evil.example',
  ]) {
    // typed in the address bar (Sec-Fetch-Site: none): a logout, never a redirect elsewhere
    const anonymous = await rawGet(stack.url, `/_psc/logout${q}`, ['Sec-Fetch-Site: none', 'Sec-Fetch-Mode: navigate'])
    t.equal(anonymous.response?.headers.location, '/_psc/logged-out', q)
    // without fetch metadata: a confirmation page, whose form posts to the fixed logout path
    const unknown = await rawGet(stack.url, `/_psc/logout${q}`)
    t.equal(unknown.response?.headers.location, undefined, `${q}: no redirect without fetch metadata`)
    t.match(unknown.response?.body ?? '', /<form method="post" action="\/_psc\/logout">/)
  }
  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${stack.url}/`, '899700218896')
  const res = await client.get(
    `${stack.url}/_psc/logout?post_logout_redirect_uri=https://evil.example&rd=//evil.example`,
  )
  const endSession = new URL(res.headers.location!)
  t.equal(endSession.searchParams.get('post_logout_redirect_uri'), `${stack.url}/_psc/logged-out`)
})
