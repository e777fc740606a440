// The forward-auth configurations of the proxies that cannot run here (Traefik, Envoy,
// ingress-nginx): parsed as YAML, every configured header (identity, account, assertion) is both
// cleared and copied. nginx, Caddy and HAProxy run for real in test/integration/forward-auth-*.
import t from 'tap'
import { parseAllDocuments, parse } from 'yaml'
import { BROWSER_MARK, forwardAuthContract } from '../../src/cli/forward-auth/contract.js'
import { generateForwardAuth, PROXY_KINDS } from '../../src/cli/forward-auth/generate.js'
import { BROWSER_MARK_HEADER } from '../../src/endpoints/forward-auth-route.js'
import { loadConfigText } from '../../src/config/load.js'
import { CLIENT_SECRET, stackYaml } from '../helpers/stack.js'

const yaml = stackYaml({
  port: 8080,
  issuer: 'http://127.0.0.1:9/',
  upstreamUrl: 'http://127.0.0.1:8082',
  headersYaml: '  identity:\n    X-PSC-Civility: civility\n    X-Remote-User: accountLogin\n    X-PSC-Acr: false\n',
})
  .replace(
    'publicUrl: http://127.0.0.1:8080',
    'publicUrl: https://dpi.hopital.fr\ntrustedProxies: [10.0.0.0/8]\naccounts: { source: file, file: accounts.csv }',
  )
  .replace(
    'app: { url: "http://127.0.0.1:8082" }',
    'app: { url: "http://127.0.0.1:8082", assertion: { audience: dpi, header: X-Dpi-Assertion } }\n  other: { url: "http://127.0.0.1:8083", assertion: { audience: o } }',
  )
const { config } = loadConfigText(yaml, 'psc-gateway.yaml', { TEST_CLIENT_SECRET: CLIENT_SECRET })
const contract = forwardAuthContract(config, 'psc-gateway.yaml', { upstream: 'app' })
const EXPECTED = [
  'X-PSC-IdNat',
  'X-PSC-RPPS',
  'X-PSC-Family-Name',
  'X-PSC-Given-Name',
  'X-PSC-Profession-Code',
  'X-PSC-Profession',
  'X-PSC-Category',
  'X-PSC-Specialty',
  'X-PSC-Auth-Mode',
  'X-PSC-Civility',
  'X-Remote-User',
  'X-Dpi-Assertion',
  'X-PSC-Assertion',
]
const lower = (a: readonly string[]) => a.map((h) => h.toLowerCase()).sort()

t.test('the contract: every identity header, every upstream\'s assertion header, and the "_" spellings', async (t) => {
  t.same(lower(contract.copy), lower(EXPECTED), 'a header set to false is not there; both assertion headers are')
  for (const h of EXPECTED) t.ok(contract.clear.includes(h.replaceAll('-', '_')), `${h}: "_" spelling cleared too`)
  t.equal(contract.gateway.origin, 'http://127.0.0.1:8080')
  t.equal(BROWSER_MARK.toLowerCase(), BROWSER_MARK_HEADER, 'the mark the proxies set is the one the gateway reads')
  t.throws(
    () => forwardAuthContract(config, 'f'),
    /plusieurs upstreams \(app, other\)/,
    'two upstreams: --upstream is needed',
  )
  t.throws(() => forwardAuthContract(config, 'f', { upstream: 'nope' }), /pas d'upstream de ce nom/)
  t.throws(() => forwardAuthContract(config, 'f', { upstream: 'app', gateway: 'ftp://x' }), /une URL http/)
})

t.test('Traefik: a headers middleware clears every configured header, forwardAuth copies each', async (t) => {
  const doc = parse(generateForwardAuth('traefik', contract)) as {
    http: {
      middlewares: Record<
        string,
        {
          headers?: { customRequestHeaders: Record<string, string> }
          forwardAuth?: { address: string; trustForwardHeader: boolean; authResponseHeaders: string[] }
        }
      >
    }
  }
  const m = doc.http.middlewares
  const cleared = m['psc-clear']!.headers!.customRequestHeaders
  t.same(Object.keys(cleared).sort(), [...contract.clear].sort(), 'every name and its "_" spelling')
  t.ok(
    Object.values(cleared).every((v) => v === ''),
    'an empty value removes the header',
  )
  t.same(lower(m['psc-auth']!.forwardAuth!.authResponseHeaders), lower(EXPECTED))
  t.equal(m['psc-auth']!.forwardAuth!.trustForwardHeader, false)
  t.equal(m['psc-auth']!.forwardAuth!.address, 'http://127.0.0.1:8080/_psc/auth')
  t.same(m['psc-browser']!.headers!.customRequestHeaders, { [BROWSER_MARK]: '1' })
})

t.test('Envoy: header_mutation removes every configured header before ext_authz, which copies each', async (t) => {
  const doc = parse(generateForwardAuth('envoy', contract)) as {
    http_filters: Array<{ name: string; typed_config: Record<string, any> }>
  }
  const names = doc.http_filters.map((f) => f.name)
  t.same(names, ['envoy.filters.http.header_mutation', 'envoy.filters.http.ext_authz'], 'the removal runs first')
  const removed = doc.http_filters[0]!.typed_config.mutations.request_mutations.map((m: { remove: string }) => m.remove)
  t.same(removed.sort(), lower(contract.clear))
  const authz = doc.http_filters[1]!.typed_config.http_service
  t.equal(authz.path_prefix, '/_psc/auth')
  t.same(
    authz.authorization_response.allowed_upstream_headers.patterns.map((p: { exact: string }) => p.exact).sort(),
    lower(EXPECTED),
  )
})

t.test(
  'ingress-nginx: auth-response-headers names every configured header; the snippets clear by prefix and mark the browser',
  async (t) => {
    const [app, endpoints] = parseAllDocuments(generateForwardAuth('ingress-nginx', contract)).map(
      (d) => d.toJS() as { metadata: { annotations: Record<string, string> } },
    )
    const a = app!.metadata.annotations
    t.same(lower(a['nginx.ingress.kubernetes.io/auth-response-headers']!.split(',')), lower(EXPECTED))
    t.equal(a['nginx.ingress.kubernetes.io/auth-url'], 'http://127.0.0.1:8080/_psc/auth')
    t.equal(a['nginx.ingress.kubernetes.io/auth-signin'], 'https://dpi.hopital.fr/_psc/login?rd=$escaped_request_uri')
    t.match(a['nginx.ingress.kubernetes.io/configuration-snippet'], "more_clear_input_headers 'X-PSC-*';")
    t.match(
      endpoints!.metadata.annotations['nginx.ingress.kubernetes.io/configuration-snippet'],
      `more_set_input_headers '${BROWSER_MARK}: 1';`,
    )
  },
)

t.test('every generated text names each configured header, and says where it comes from', async (t) => {
  for (const kind of PROXY_KINDS) {
    const text = generateForwardAuth(kind, contract)
    t.match(text, /psc-gateway forward-auth/, `${kind}: says how it was made`)
    if (kind === 'haproxy-lua') continue
    for (const h of EXPECTED) t.ok(text.toLowerCase().includes(h.toLowerCase()), `${kind}: ${h}`)
  }
})
