// Route table checks as an integrator meets them: through the loader, with file, line and key.
import t from 'tap'
import { ConfigError, type ConfigIssue } from '../../src/config/config-error.js'
import { loadConfigText } from '../../src/config/load.js'
import { BASE, brief, issuesOf as baseIssuesOf, load } from './fixture.js'

const head = `publicUrl: https://dpi.example.fr
psc:
  environment: bas
  clientId: my-client
  clientSecret: a-client-secret
session:
  secrets: ["${'x'.repeat(40)}"]
upstreams:
  dpi:
    url: http://dpi.internal:8080
routes:
`
// routes start at line 12; each route below is 4 lines: - name, match, upstream, access
const routes = (...matches: Array<[string, string]>): string =>
  head +
  matches
    .map(([name, match]) => `  - name: ${name}\n    match: ${match}\n    upstream: dpi\n    access: authenticated\n`)
    .join('')

function issuesOf(text: string): string[] {
  try {
    loadConfigText(text, 'gateway.yaml', {})
  } catch (err) {
    if (err instanceof ConfigError)
      return err.issues.map((i: ConfigIssue) => `${i.file}:${i.line ?? '-'}:${i.path}: ${i.message}`)
    throw err
  }
  return []
}

t.test('a trailing dot does not make another host: the second route is refused', async (t) => {
  t.same(issuesOf(routes(['dot', '{ host: [app.example.] }'], ['plain', '{ host: [app.example] }'])), [
    'gateway.yaml:16:routes[1]: route "plain" can never match: route "dot" (routes[0], line 12) comes first and matches every request it would match',
  ])
  t.same(issuesOf(routes(['plain', '{ host: [app.example] }'], ['upper', '{ host: [APP.example.] }'])), [
    'gateway.yaml:16:routes[1]: route "upper" can never match: route "plain" (routes[0], line 12) comes first and matches every request it would match',
  ])
})

t.test('routes that together hide a later one are named together', async (t) => {
  t.same(
    issuesOf(
      routes(
        ['reads', '{ methods: [GET] }'],
        ['writes', '{ pathPrefix: /app, methods: [POST, PUT] }'],
        ['app', '{ pathPrefix: /app/x, methods: [GET, POST] }'],
      ),
    ),
    [
      'gateway.yaml:20:routes[2]: route "app" can never match: routes "reads" (routes[0], line 12) and "writes" (routes[1], line 16) come first and together match every request it would match',
    ],
  )
})

t.test('a host or a prefix no request can carry', async (t) => {
  t.same(issuesOf(routes(['port', '{ host: [app.example, "app.example:8443"] }'])), [
    'gateway.yaml:13:routes[0].match.host[1]: host "app.example:8443" can never match: a request\'s host is compared in lower case, without its port and its trailing dot',
  ])
  t.same(issuesOf(routes(['dot', '{ pathPrefix: /admin/. }'], ['all', '{}'])), [
    'gateway.yaml:13:routes[0].match.pathPrefix: "/admin/." can never match: request paths are normalised before matching, and this one becomes "/admin/"',
  ])
  t.same(issuesOf(routes(['semi', '{ pathPrefix: "/a;jsessionid" }'], ['all', '{}'])), [
    'gateway.yaml:13:routes[0].match.pathPrefix: "/a;jsessionid" can never match: a request with this path is refused (path parameters (;) are not accepted)',
  ])
})

t.test("a prefix under the gateway's own endpoints", async (t) => {
  t.same(issuesOf(routes(['own', '{ pathPrefix: /_psc/admin }'], ['all', '{}'])), [
    'gateway.yaml:13:routes[0].match.pathPrefix: "/_psc/admin" can never match: paths under "/_psc" are the gateway\'s own endpoints (prefix)',
  ])
})

t.test('reachable tables load', async (t) => {
  t.same(
    issuesOf(routes(['a', '{ host: [a.example], methods: [GET] }'], ['b', '{ host: [a.example] }'], ['all', '{}'])),
    [],
  )
  t.same(issuesOf(routes(['head', '{ methods: [HEAD] }'], ['get', '{ methods: [GET] }'])), [])
})

t.test('shadowed routes: only true shadowing is an error', async (t) => {
  const routes = (body: string) => BASE.replace(/routes:\n[\s\S]*$/, `routes:\n${body}`)
  // a host-limited or method-limited earlier route does not hide a broader later one
  load(
    routes(`  - name: a
    match: { host: [a.example], methods: [GET] }
    upstream: dpi
    access: public
  - name: b
    upstream: dpi
    access: authenticated
`),
  )
  t.same(
    brief(
      baseIssuesOf(
        routes(`  - name: a
    match: { pathPrefix: /app, methods: [GET] }
    upstream: dpi
    access: public
  - name: b
    match: { pathPrefix: /app/x, methods: [HEAD] }
    upstream: dpi
    access: authenticated
`),
      ),
    ),
    [
      '17:routes[1]: route "b" can never match: route "a" (routes[0], line 13) comes first and matches every request it would match',
    ],
  )
  load(
    routes(`  - name: a
    match: { pathPrefix: /app }
    upstream: dpi
    access: public
  - name: b
    match: { pathPrefix: /application }
    upstream: dpi
    access: authenticated
`),
  )
})
