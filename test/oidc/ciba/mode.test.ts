// Which login a page offers: route override, then host override, then psc.ciba.mode.
import t from 'tap'
import { cibaModeFor } from '../../../src/oidc/ciba/mode.js'
import type { CibaSettings } from '../../../src/config/types.js'
import { compileRoutes } from '../../../src/policy/rules.js'

const routes = compileRoutes([
  { name: 'pharmacie', match: { pathPrefix: '/pharmacie' }, upstream: 'app', access: 'authenticated' },
  { name: 'all', match: { pathPrefix: '/' }, upstream: 'app', access: 'authenticated' },
])
const settings = (over: Partial<CibaSettings> = {}): CibaSettings => ({
  enabled: true,
  mode: 'both',
  hosts: {},
  routes: {},
  channel: 'MOBILE',
  bindingMessage: 'two-digits',
  limits: {
    perIdNat: { max: 3, windowMs: 1 },
    perClient: { max: 3, windowMs: 1 },
    cooldownAfterDenialMs: 1,
    maxPending: 1,
  },
  ...over,
})

t.test('off: always the redirect', async (t) => {
  t.equal(cibaModeFor(settings({ enabled: false, mode: 'ciba' }), routes, 'dpi.local', '/'), 'redirect')
})

t.test('the default mode, then the host, then the route', async (t) => {
  const s = settings({ mode: 'both', hosts: { 'chariot.hopital.fr': 'ciba' }, routes: { pharmacie: 'redirect' } })
  t.equal(cibaModeFor(s, routes, 'dpi.hopital.fr', '/dossier/1'), 'both')
  t.equal(
    cibaModeFor(s, routes, 'Chariot.Hopital.fr:8443', '/dossier/1?x=1'),
    'ciba',
    'host compared without port, any case',
  )
  t.equal(cibaModeFor(s, routes, 'chariot.hopital.fr', '/pharmacie/stock'), 'redirect', 'the route wins over the host')
  t.equal(cibaModeFor(s, routes, undefined, '/x'), 'both')
})
