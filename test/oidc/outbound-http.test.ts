// Which proxy a call to PSC takes: HTTPS_PROXY/HTTP_PROXY/NO_PROXY by default, psc.outboundProxy
// when configured, none with outboundProxy: false. Pure selection, no network.
import t from 'tap'
import { noProxyMatches, proxyFor, splitNoProxy } from '../../src/oidc/outbound-http.js'

const psc = new URL('https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet')
const emulator = new URL('http://127.0.0.1:8081/auth/realms/esante-wallet')

t.test('the environment by default: HTTPS_PROXY for https, HTTP_PROXY for http, lower case first', async (t) => {
  const env = { HTTPS_PROXY: 'http://proxy-s:3128', HTTP_PROXY: 'http://proxy-h:3128' }
  t.equal(proxyFor(psc, { kind: 'environment' }, env)?.href, 'http://proxy-s:3128/')
  t.equal(proxyFor(emulator, { kind: 'environment' }, env)?.href, 'http://proxy-h:3128/')
  t.equal(
    proxyFor(psc, { kind: 'environment' }, { ...env, https_proxy: 'http://lower:8080' })?.href,
    'http://lower:8080/',
  )
  t.equal(
    proxyFor(psc, { kind: 'environment' }, { HTTPS_PROXY: 'proxy-bare:3128' })?.href,
    'http://proxy-bare:3128/',
    'a bare host:port',
  )
  t.equal(proxyFor(psc, { kind: 'environment' }, {}), undefined, 'no variable: direct')
  t.equal(proxyFor(psc, { kind: 'environment' }, { HTTPS_PROXY: '' }), undefined, 'empty: direct')
  t.equal(proxyFor(psc, { kind: 'environment' }, { ...env, NO_PROXY: '.esante.gouv.fr' }), undefined, 'NO_PROXY suffix')
  t.equal(proxyFor(psc, { kind: 'direct' }, env), undefined, 'outboundProxy: false ignores the environment')
})

t.test(
  'a configured proxy: credentials added from the settings, noProxy honoured, the environment ignored',
  async (t) => {
    const p = proxyFor(
      psc,
      { kind: 'configured', url: 'http://proxy:3128/', username: 'svc psc', password: 'p@ss:w', noProxy: [] },
      { HTTPS_PROXY: 'http://other:1' },
    )
    t.equal(p?.host, 'proxy:3128')
    t.equal(decodeURIComponent(p!.username), 'svc psc')
    t.equal(decodeURIComponent(p!.password), 'p@ss:w')
    t.equal(
      proxyFor(psc, { kind: 'configured', url: 'http://proxy:3128/', noProxy: ['auth.bas.psc.esante.gouv.fr'] }, {}),
      undefined,
    )
  },
)

t.test('NO_PROXY entries as curl reads them', async (t) => {
  t.ok(noProxyMatches(psc, ['*']))
  t.ok(noProxyMatches(psc, ['esante.gouv.fr']))
  t.ok(noProxyMatches(psc, ['.esante.gouv.fr']))
  t.ok(noProxyMatches(psc, ['*.esante.gouv.fr']))
  t.ok(noProxyMatches(psc, ['auth.bas.psc.esante.gouv.fr:443']))
  t.notOk(noProxyMatches(psc, ['auth.bas.psc.esante.gouv.fr:8443']), 'another port')
  t.notOk(noProxyMatches(psc, ['sante.gouv.fr']), 'not a suffix at a dot')
  t.ok(noProxyMatches(emulator, ['127.0.0.1']))
  t.ok(noProxyMatches(emulator, ['127.0.0.1:8081']))
  t.notOk(noProxyMatches(emulator, ['localhost']))
  t.same(splitNoProxy('localhost, .hopital.local  127.0.0.1,,'), ['localhost', '.hopital.local', '127.0.0.1'])
})
