import t from 'tap'
import fc from 'fast-check'
import { routeReachability } from '../../src/policy/route-reachability.js'
import { compileRoutes, matchRoute } from '../../src/policy/rules.js'
import type { RouteConfig } from '../../src/config/schema.js'

const route = (name: string, match: RouteConfig['match']): RouteConfig => ({
  name,
  match,
  upstream: 'up',
  access: 'public',
})
const verdicts = (routes: RouteConfig[]) =>
  routeReachability(routes).map((r) => (r.reachable ? 'reachable' : `shadowed by ${r.shadowedBy.join(',')}`))

t.test('hosts are compared as the matcher compares them', async (t) => {
  t.same(
    verdicts([route('a', { host: ['app.example.'] }), route('b', { host: ['app.example'] })]),
    ['reachable', 'shadowed by 0'],
    'a trailing dot is dropped by the matcher: the second route never matches',
  )
  t.same(verdicts([route('a', { host: ['App.Example'] }), route('b', { host: ['app.example.'] })]), [
    'reachable',
    'shadowed by 0',
  ])
  t.same(verdicts([route('a', { host: ['a.example'] }), route('b', { host: ['b.example'] })]), [
    'reachable',
    'reachable',
  ])
})

t.test('earlier routes together can hide a later one', async (t) => {
  t.same(
    verdicts([
      route('get', { pathPrefix: '/app', methods: ['GET'] }),
      route('post', { methods: ['POST'] }),
      route('both', { pathPrefix: '/app/x', methods: ['GET', 'POST'] }),
    ]),
    ['reachable', 'reachable', 'shadowed by 0,1'],
  )
  t.same(
    verdicts([
      route('a', { host: ['a.example'] }),
      route('b', { host: ['b.example'], pathPrefix: '/x' }),
      route('ab', { host: ['a.example', 'b.example'], pathPrefix: '/x/y' }),
    ]),
    ['reachable', 'reachable', 'shadowed by 0,1'],
  )
  t.same(
    verdicts([route('get', { methods: ['GET'] }), route('any', { methods: ['HEAD'] })]),
    ['reachable', 'shadowed by 0'],
    'HEAD goes with GET',
  )
  t.same(verdicts([route('head', { methods: ['HEAD'] }), route('get', { methods: ['GET'] })]), [
    'reachable',
    'reachable',
  ])
  t.same(
    verdicts([route('hosts', { host: ['a.example'] }), route('all', {})]),
    ['reachable', 'reachable'],
    'no list of hosts covers every host',
  )
})

t.test('a route that no request can reach at all', async (t) => {
  const [withPort] = routeReachability([route('p', { host: ['app.example:8443'] })])
  t.same(withPort, { reachable: false, shadowedBy: [], deadHosts: [0] }, 'hosts are compared without port')
  const [mixed] = routeReachability([route('p', { host: ['app.example', 'app.example:8443'] })])
  t.same(mixed, { reachable: true, shadowedBy: [], deadHosts: [1] })
  const [dot] = routeReachability([route('d', { pathPrefix: '/a/.' })])
  t.same(dot, { reachable: false, shadowedBy: [], deadHosts: [], deadPrefix: { normalised: '/a/' } })
  const [encoded] = routeReachability([route('e', { pathPrefix: '/%7Euser' })])
  t.same(encoded?.deadPrefix, { normalised: '/~user' })
  const [refused] = routeReachability([route('r', { pathPrefix: '/a;b' })])
  t.match(refused?.deadPrefix, { refused: /path parameters/ })
  const reserved = routeReachability(
    [
      route('own', { pathPrefix: '/_psc/x' }),
      route('exact', { pathPrefix: '/_psc' }),
      route('near', { pathPrefix: '/_pscx' }),
    ],
    '/_psc',
  )
  t.same(
    reserved.map((r) => r.deadPrefix),
    [{ reserved: '/_psc' }, { reserved: '/_psc' }, undefined],
    'the gate never gives these paths to the table',
  )
  const [fine] = routeReachability([route('f', { pathPrefix: '/dossiers/%C3%A9t%C3%A9' })])
  t.equal(fine?.reachable, true, 'a normalised prefix with escapes is reachable')
})

// Brute force over a finite universe that holds a request of every class the routes tell apart:
// route B is flagged iff no request of the universe is answered by B.
const SEGMENTS = ['a', 'b', 'A']
const ROUTE_HOSTS = ['a.example', 'A.example.', 'b.example', 'b.example.', 'a.example:8080', 'c..']
const REQUEST_HOSTS = [undefined, 'a.example', 'b.example', 'other.example', 'c.', 'c..', 'B.EXAMPLE:443']
const METHODS = ['GET', 'HEAD', 'POST', 'DELETE']
const REQUEST_METHODS = [...METHODS, 'PATCH']

function paths(depth: number): string[] {
  let level = ['']
  const all = ['/']
  for (let d = 0; d < depth; d++) {
    level = level.flatMap((p) => [...SEGMENTS, 'z'].map((s) => `${p}/${s}`))
    all.push(...level, ...level.map((p) => `${p}/`))
  }
  return all
}
const REQUEST_PATHS = paths(3)
const RESERVED = '/b'

const prefixArb = fc.oneof(
  fc.constant(undefined),
  fc.array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 2 }).map((s) => `/${s.join('/')}`),
  fc.constantFrom('/a/.', '/%61', '/a/..'),
)
const routeArb = fc.record(
  {
    host: fc.option(fc.uniqueArray(fc.constantFrom(...ROUTE_HOSTS), { minLength: 1, maxLength: 2 }), {
      nil: undefined,
    }),
    pathPrefix: prefixArb,
    methods: fc.option(fc.uniqueArray(fc.constantFrom(...METHODS), { minLength: 1, maxLength: 2 }), { nil: undefined }),
  },
  { requiredKeys: [] },
)

t.test('property: flagged iff no request is answered by the route', async () => {
  fc.assert(
    fc.property(fc.array(routeArb, { minLength: 1, maxLength: 5 }), (matches) => {
      const routes = matches.map((m, i) =>
        route(`r${i}`, Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined))),
      )
      const table = compileRoutes(routes)
      const answered = new Set<number>()
      for (const host of REQUEST_HOSTS) {
        for (const method of REQUEST_METHODS) {
          for (const path of REQUEST_PATHS) {
            if (path === RESERVED || path.startsWith(`${RESERVED}/`)) continue // the gateway's own endpoints
            const r = matchRoute(table, { host, method, path })
            if (r !== undefined) answered.add(r.index)
          }
        }
      }
      return routeReachability(routes, RESERVED).every((v, i) => v.reachable === answered.has(i))
    }),
    { numRuns: 300 },
  )
})
