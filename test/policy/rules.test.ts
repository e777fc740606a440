import t from 'tap'
import { compileRoutes, describeRouteTable, hostWithoutPort, matchRoute } from '../../src/policy/rules.js'
import type { RouteConfig } from '../../src/config/schema.js'

const route = (
  name: string,
  match: RouteConfig['match'],
  access: RouteConfig['access'] = 'authenticated',
): RouteConfig => ({ name, match, upstream: 'up', access })

const table = compileRoutes([
  route('static', { pathPrefix: '/static', methods: ['GET'] }, 'public'),
  route('admin', { pathPrefix: '/admin' }, { idNat: ['810000000001', '810000000002'] }),
  route('pharma', { host: ['Pharma.Example.FR'] }, { professions: ['21'] }),
  route('write', { pathPrefix: '/api', methods: ['POST', 'PUT'] }, { professions: ['10'], categories: ['M'] }),
  route('all', {}),
])

const name = (req: { host?: string; method?: string; path: string }): string | undefined =>
  matchRoute(table, { host: req.host, method: req.method ?? 'GET', path: req.path })?.name

t.test('segment-aware prefixes', async (t) => {
  t.equal(name({ path: '/admin' }), 'admin')
  t.equal(name({ path: '/admin/' }), 'admin')
  t.equal(name({ path: '/admin/x/y' }), 'admin')
  t.equal(name({ path: '/administration' }), 'all')
  t.equal(name({ path: '/adminx' }), 'all')
  t.equal(name({ path: '/ADMIN' }), 'all', 'case-sensitive')
  t.equal(name({ path: '/' }), 'all')
})

t.test('methods, HEAD goes with GET', async (t) => {
  t.equal(name({ path: '/static/app.js' }), 'static')
  t.equal(name({ path: '/static/app.js', method: 'HEAD' }), 'static')
  t.equal(name({ path: '/static/app.js', method: 'POST' }), 'all')
  t.equal(name({ path: '/api/x', method: 'POST' }), 'write')
  t.equal(name({ path: '/api/x', method: 'GET' }), 'all')
  t.equal(name({ path: '/api/x', method: 'HEAD' }), 'all', 'HEAD is not added without GET')
})

t.test('hosts: port, case, trailing dot', async (t) => {
  t.equal(name({ host: 'pharma.example.fr', path: '/x' }), 'pharma')
  t.equal(name({ host: 'PHARMA.example.fr:8443', path: '/x' }), 'pharma')
  t.equal(name({ host: 'pharma.example.fr.', path: '/x' }), 'pharma')
  t.equal(name({ host: 'other.example.fr', path: '/x' }), 'all')
  t.equal(name({ host: undefined, path: '/x' }), 'all')
  t.equal(name({ host: 'pharma.example.fr', path: '/admin' }), 'admin', 'first match wins')
  t.equal(hostWithoutPort('[::1]:8080'), '[::1]')
  t.equal(hostWithoutPort('[::1]'), '[::1]')
  t.equal(hostWithoutPort('Example.org'), 'example.org')
})

t.test('no match', async (t) => {
  const small = compileRoutes([route('only', { pathPrefix: '/a' })])
  t.equal(matchRoute(small, { host: 'x', method: 'GET', path: '/b' }), undefined)
  t.equal(matchRoute(small, { host: 'x', method: 'GET', path: '/a' })?.index, 0)
})

t.test('compiled shape', async (t) => {
  const r = table.routes[2]!
  t.same([...r.hosts!], ['pharma.example.fr'])
  t.equal(r.pathPrefix, '/')
  t.same([...table.routes[0]!.methods!].sort(), ['GET', 'HEAD'])
  t.equal(table.routes[4]!.methods, undefined)
})

t.test('describeRouteTable', async (t) => {
  const text = describeRouteTable(table)
  const lines = text.split('\n')
  t.equal(lines.length, 6)
  t.match(lines[0]!, /^#\s+name\s+hosts\s+methods\s+path\s+upstream\s+access$/)
  t.match(lines[1]!, /^1\s+static\s+\*\s+GET\s+\/static\/\*\*\s+up\s+public$/)
  t.match(text, /idNat \(2 listed\)/)
  t.notMatch(text, /810000000001/)
  t.match(text, /professions 10 & categories M/)
})
