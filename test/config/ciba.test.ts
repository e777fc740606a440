// psc.ciba and psc.serviceName: defaults, resolution, and errors with file, line and key.
import t from 'tap'
import { ConfigError, type ConfigIssue } from '../../src/config/config-error.js'
import { loadConfigText } from '../../src/config/load.js'

const ENV = { S: 'x'.repeat(40) }
const base = (psc: string) => `publicUrl: https://dpi.example.fr
psc:
  environment: bas
  clientId: my-client
  clientSecret: not-a-real-secret
${psc}session:
  secrets: ["\${S}"]
upstreams:
  dpi: { url: "http://dpi.internal:8080" }
routes:
  - name: urgences
    match: { pathPrefix: /urgences }
    upstream: dpi
    access: authenticated
  - name: all
    upstream: dpi
    access: authenticated
`

function issues(text: string): string[] {
  try {
    loadConfigText(text, 'gw.yaml', ENV)
  } catch (err) {
    if (err instanceof ConfigError)
      return err.issues.map((i: ConfigIssue) => `${i.line ?? '-'}:${i.path}: ${i.message}`)
    throw err
  }
  return []
}

t.test('off by default, with the documented defaults', async (t) => {
  const { config } = loadConfigText(base(''), 'gw.yaml', ENV)
  t.same(config.psc.ciba, {
    enabled: false,
    mode: 'both',
    hosts: {},
    routes: {},
    channel: 'MOBILE',
    bindingMessage: 'two-digits',
    limits: {
      perIdNat: { max: 3, windowMs: 600_000 },
      perClient: { max: 10, windowMs: 600_000 },
      cooldownAfterDenialMs: 300_000,
      maxPending: 1000,
    },
  })
  t.equal(config.psc.serviceName, undefined)
})

t.test('a full block resolves', async (t) => {
  const { config } = loadConfigText(
    base(`  serviceName: DPI du CH de Test
  ciba:
    enabled: true
    mode: redirect
    hosts: { Chariot.Hopital.fr: ciba }
    routes: { urgences: both }
    channel: CARD
    bindingMessage: four-digits
    limits:
      perIdNat: { max: 2, window: 1h }
      cooldownAfterDenial: 15m
`),
    'gw.yaml',
    ENV,
  )
  t.equal(config.psc.serviceName, 'DPI du CH de Test')
  t.same(config.psc.ciba.hosts, { 'chariot.hopital.fr': 'ciba' }, 'host names compared in lower case')
  t.same(config.psc.ciba.routes, { urgences: 'both' })
  t.equal(config.psc.ciba.channel, 'CARD')
  t.same(config.psc.ciba.limits.perIdNat, { max: 2, windowMs: 3_600_000 })
  t.equal(config.psc.ciba.limits.cooldownAfterDenialMs, 900_000)
})

t.test('errors name file line and key', async (t) => {
  t.same(
    issues(
      base(`  ciba:
    enabled: true
`),
    ),
    [
      '7:psc.ciba.enabled: CIBA needs psc.serviceName, the dénomination registered with ANS (shown in the e-CPS notification and on the waiting page)',
    ],
  )
  t.same(
    issues(
      base(`  serviceName: X
  ciba:
    enabled: true
    routes: { urgence: ciba }
`),
    ),
    ['9:psc.ciba.routes.urgence: unknown route "urgence" (declared routes: urgences, all)'],
  )
  t.same(
    issues(
      base(`  serviceName: "${'x'.repeat(101)}"
`),
    ),
    ['6:psc.serviceName: expected at most 100 characters, got 101'],
  )
  t.same(
    issues(
      base(`  ciba:
    mode: push
`),
    ),
    ['7:psc.ciba.mode: expected one of: redirect, ciba, both, got "push"'],
  )
  t.same(
    issues(
      base(`  ciba:
    limits: { perIdNat: { max: 0 } }
`),
    ),
    ['7:psc.ciba.limits.perIdNat.max: expected an integer of at least 1, got the number 0'],
  )
})
