// Attack class 1: route-rule bypass by path tricks. Real bytes over a socket (clients normalise
// paths before sending them, attackers do not). Expectation for every target: either 400 and
// nothing forwarded, or the request is judged and forwarded on the very same normalised path.
import fc from 'fast-check'
import t from 'tap'
import { normalizeRequestTarget } from '../../src/policy/path.js'
import { compileRoutes, matchRoute } from '../../src/policy/rules.js'
import { rawGet } from '../helpers/raw-http.js'
import { startStack, type Stack } from '../helpers/stack.js'
import { startTestGateway, type Echo, type TestGateway } from './fixture.js'

let stack: Stack
let forwarded: string[]
t.before(async () => {
  stack = await startStack()
  forwarded = []
  stack.upstream.server.on('request', (req) => forwarded.push(req.url ?? ''))
})
t.teardown(() => stack.close())

// The stack's routes: /public is public, /admin needs one idNat, everything else needs a login.
// An anonymous client must never get anything but /public/** forwarded.
type Expect = { status: number; path?: string; route?: string }
const cases: Array<[string, Expect]> = [
  ['/admin/../public/x', { status: 200, path: '/public/x', route: 'public' }],
  ['/public/../admin', { status: 302 }],
  ['/public/..%2fadmin', { status: 400 }],
  ['/public/..%2Fadmin', { status: 400 }],
  ['/public/%2e%2e/admin', { status: 302 }],
  ['/public/%2E%2E/admin', { status: 302 }],
  ['/public/.%2e/admin', { status: 302 }],
  ['/public/%252e%252e/admin', { status: 200, path: '/public/%252e%252e/admin', route: 'public' }],
  ['/public/%252f..%252fadmin', { status: 200, path: '/public/%252f..%252fadmin', route: 'public' }],
  ['//admin', { status: 302 }],
  ['//public/x', { status: 200, path: '/public/x', route: 'public' }],
  ['/public//../admin', { status: 302 }],
  ['/admin;x', { status: 400 }],
  ['/public;/../admin', { status: 400 }],
  ['/public/..;/admin', { status: 400 }],
  ['/admin%3bx', { status: 400 }],
  ['/ADMIN', { status: 302 }],
  ['/PUBLIC/x', { status: 302 }],
  ['/public./x', { status: 400 }],
  ['/public%2e/x', { status: 400 }],
  ['/admin.', { status: 400 }],
  ['/public%20/x', { status: 400 }],
  ['/public/', { status: 200, path: '/public/', route: 'public' }],
  ['/public', { status: 200, path: '/public', route: 'public' }],
  ['/publicity', { status: 302 }],
  ['/public\\..\\admin', { status: 400 }],
  ['/public/..%5cadmin', { status: 400 }],
  ['/public/%00/../admin', { status: 400 }],
  ['/public/%c0%ae%c0%ae/admin', { status: 400 }],
  ['/public/%e0%80%ae%e0%80%ae/admin', { status: 400 }],
  ['/public/%c0%af../admin', { status: 400 }],
  ['/admin#/public', { status: 400 }],
  ['/public#/../admin', { status: 400 }],
  ['/public/%23/../../admin', { status: 302 }],
  ['/public/%23x', { status: 200, path: '/public/%23x', route: 'public' }],
  ['/admin?p=/public', { status: 302 }],
  ['/x?p=/public/../public', { status: 302 }],
  ['/public/x?next=/admin/../../etc', { status: 200, path: '/public/x', route: 'public' }],
  ['http://other/public/x', { status: 400 }],
  ['http://127.0.0.1/admin', { status: 400 }],
  ['HTTP://127.0.0.1/public/x', { status: 400 }],
  ['*', { status: 400 }],
  ['public/x', { status: 400 }],
  ['/_psc/../admin', { status: 302 }],
  ['/public/../_psc/me', { status: 401 }],
]

t.test('each path trick is refused or judged on the path that is forwarded', async (t) => {
  for (const [target, expect] of cases) {
    const before = forwarded.length
    const auditBefore = stack.audit.length
    const { response } = await rawGet(stack.url, `${target + (target.includes('?') ? '&' : '?')}format=json`, [])
    t.equal(response?.status, expect.status, `${target}: status`)
    if (expect.status === 200 && response?.status === 200) {
      const echo = JSON.parse(response.body) as Echo
      const q = echo.url.indexOf('?')
      t.equal(echo.url.slice(0, q), expect.path, `${target}: forwarded path`)
      t.equal(forwarded.length - before, 1, `${target}: forwarded once`)
      const line = stack.audit.slice(auditBefore).find((e) => e.event === 'access')
      t.equal(line?.route, expect.route, `${target}: judged under the route it was forwarded under`)
      t.equal(line?.path, expect.path, `${target}: the audited path is the forwarded path`)
    } else {
      t.equal(forwarded.length - before, 0, `${target}: nothing forwarded`)
    }
  }
})

t.test('absolute-form targets are refused whatever the Host header says', async (t) => {
  const before = forwarded.length
  for (const [target, host] of [
    ['http://evil.example/public/x', 'evil.example'],
    ['http://127.0.0.1/public/x', 'other.example'],
    ['https://127.0.0.1/admin', '127.0.0.1'],
  ]) {
    const { response } = await rawGet(stack.url, target!, [`Host: ${host}`])
    t.equal(response?.status, 400, `${target} with Host ${host}`)
    t.match(response?.body, /Requête invalide/)
  }
  t.equal(forwarded.length, before, 'nothing forwarded')
})

t.test('two Host headers are refused (RFC 9112), nothing forwarded', async (t) => {
  const before = forwarded.length
  const { response } = await rawGet(stack.url, '/public/x', ['Host: public.example', 'Host: admin.example'])
  t.equal(response?.status, 400)
  t.equal(forwarded.length, before)
})

// A table where the host and the path decide the upstream; each upstream has its own base path,
// so the echoed URL says which route the request was forwarded under.
const TABLE = `
upstreams:
  ua: { url: "UPSTREAM/ua" }
  ub: { url: "UPSTREAM/ub" }
  uc: { url: "UPSTREAM/uc" }
  ud: { url: "UPSTREAM/ud" }
routes:
  - { name: ra, match: { pathPrefix: /a }, upstream: ua, access: public }
  - { name: rb, match: { pathPrefix: /b/c }, upstream: ub, access: public }
  - { name: rhost, match: { host: [intranet.example], pathPrefix: /b }, upstream: uc, access: public }
  - { name: rest, upstream: ud, access: public }
`
const ROUTES = [
  { name: 'ra', match: { pathPrefix: '/a' }, upstream: 'ua', access: 'public' as const },
  { name: 'rb', match: { pathPrefix: '/b/c' }, upstream: 'ub', access: 'public' as const },
  { name: 'rhost', match: { host: ['intranet.example'], pathPrefix: '/b' }, upstream: 'uc', access: 'public' as const },
  { name: 'rest', match: {}, upstream: 'ud', access: 'public' as const },
]

t.test('Host decides the route it names, and the host matched is the host forwarded', async (t) => {
  const gw: TestGateway = await startTestGateway(TABLE)
  t.teardown(() => gw.close())
  const viaIntranet = await rawGet(gw.url, '/b/x', ['Host: INTRANET.example.:8080'])
  t.equal(JSON.parse(viaIntranet.response!.body).url, '/uc/b/x')
  t.equal(JSON.parse(viaIntranet.response!.body).headers['x-forwarded-host'], 'INTRANET.example.:8080')
  const other = await rawGet(gw.url, '/b/x', ['Host: other.example'])
  t.equal(JSON.parse(other.response!.body).url, '/ud/b/x')
  // An untrusted client's X-Forwarded-Host neither routes nor reaches the upstream.
  const spoof = await rawGet(gw.url, '/b/x', ['Host: other.example', 'X-Forwarded-Host: intranet.example'])
  const echo = JSON.parse(spoof.response!.body) as Echo
  t.equal(echo.url, '/ud/b/x')
  t.equal(echo.headers['x-forwarded-host'], 'other.example')
})

t.test(
  'property: for any target, the route chosen for the normalised path is the route it is forwarded under',
  async (t) => {
    const gw = await startTestGateway(TABLE)
    t.teardown(() => gw.close())
    const table = compileRoutes(ROUTES)
    const piece = fc.constantFrom(
      '/',
      '//',
      'a',
      'b',
      'c',
      'A',
      '.',
      '..',
      '%2e',
      '%2E%2e',
      '%2f',
      '%5c',
      '%252e',
      ';',
      '%3b',
      '\\',
      '%00',
      '%c0%ae',
      '%61',
      '%20',
      '~',
      '%7e',
      '#',
      '%23',
      '?',
      '?x=/a',
      '{',
      '%zz',
      'x.',
      '@',
      ':',
    )
    const hosts = fc.constantFrom('intranet.example', 'other.example', 'Intranet.Example:80')
    let forwardedCount = 0
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 10 }), hosts, async (parts, host) => {
        const target = `/${parts.join('')}`
        const expected = normalizeRequestTarget(target)
        const before = gw.upstream.received.length
        const { response } = await rawGet(gw.url, target, [`Host: ${host}`])
        if (!expected.ok) {
          return response?.status === 400 && gw.upstream.received.length === before
        }
        // the pure decision on the normalised path...
        const route = matchRoute(table, { host, method: 'GET', path: expected.path })!
        // ...is what happened over the wire: forwarded once, under that route, with that very path
        if (response?.status !== 200 || gw.upstream.received.length !== before + 1) return false
        forwardedCount++
        const echo = JSON.parse(response.body) as Echo
        const again = normalizeRequestTarget(expected.path)
        return (
          echo.url === `/${route.upstream}${expected.path}${expected.query}` &&
          again.ok &&
          again.path === expected.path && // idempotent
          !expected.path.split('/').some((s) => s === '..' || s === '.')
        )
      }),
      { numRuns: 200 },
    )
    t.ok(forwardedCount > 20, `a fair share of the runs was forwarded (${forwardedCount}/200)`)
  },
)
