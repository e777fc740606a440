// `check` (the loader) refuses a retention the configuration cannot honour, naming the file, the
// line and the key: a retention without a file the gateway writes (then it is the log platform's
// job), without a rotation period or not longer than it, a Datapass-stated retention that is not
// what the files keep, and a session that outlives the retention. Before: no retention at all.
import t from 'tap'
import { ConfigError } from '../../src/config/config-error.js'
import { loadConfigText } from '../../src/config/load.js'
import { REDIS_INDEX_TTL_MS } from '../../src/config/sections/declaration.js'
import { INDEX_TTL_MS } from '../../src/session/redis-store.js'

function load(audit: string, extra = '', session = '') {
  return loadConfigText(
    `publicUrl: https://dpi.ch-arles.fr
psc:
  environment: production
  clientId: dpi-ch-arles
  clientSecret: \${S}
session:
  secrets: ["${'s'.repeat(40)}"]
${session}
upstreams: { dpi: { url: "http://10.0.0.5:8080" } }
routes:
  - { name: dpi, match: { pathPrefix: /dpi }, upstream: dpi, access: authenticated }
audit:
${audit}
${extra}
`,
    'retention.yaml',
    { S: 'secret-secret', K: 'k'.repeat(40) },
  ).config
}

function refusal(f: () => unknown): string {
  try {
    f()
  } catch (err) {
    if (err instanceof ConfigError) return err.message
    throw err
  }
  return '(accepted)'
}

const FILE = '  file: /tmp/retention-config-audit.log\n  hmacKey: "${K}"\n'

t.test('a retention the gateway can keep is accepted', async (t) => {
  const c = load(`${FILE}  retention: 12 months\n  rotatedEvery: 1d`, 'declaration: { retentionMonths: 12 }')
  t.equal(c.audit.retention, '12 months')
  t.equal(c.audit.rotatedEveryMs, 86_400_000)
  t.equal(c.declaration?.retentionMonths, 12)
  load('  stdout: true', 'declaration: { retentionMonths: 6 }')
})

t.test('audit to stdout or syslog only: retention is the log platform’s job', async (t) => {
  t.match(
    refusal(() => load('  stdout: true\n  retention: 12 months\n  rotatedEvery: 1d')),
    /retention\.yaml:\d+:\d+: audit\.retention: audit\.retention needs audit\.file: the gateway removes only the files it writes\. Audit to stdout or syslog only: retention is the log platform's job/,
  )
})

t.test('a retention needs the rotation period, and must be longer than it', async (t) => {
  t.match(
    refusal(() => load(`${FILE}  retention: 12 months`)),
    /retention\.yaml:15:\d+: audit\.retention: audit\.retention needs audit\.rotatedEvery/,
  )
  t.match(
    refusal(() => load(`${FILE}  retention: 7 days\n  rotatedEvery: 7d`)),
    /retention\.yaml:16:\d+: audit\.rotatedEvery: audit\.retention \(7 days, line 15\) is not longer than the rotation period \(7d\)/,
  )
  t.match(
    refusal(() => load(`${FILE}  retention: 1 month\n  rotatedEvery: 30d`)),
    /is not longer than the rotation period \(30d\)/,
  )
  t.match(
    refusal(() => load(`${FILE}  rotatedEvery: 1d`)),
    /audit\.rotatedEvery: audit\.rotatedEvery is only read with audit\.retention/,
  )
  t.match(
    refusal(() => load(`${FILE}  retention: 12 weeks\n  rotatedEvery: 1d`)),
    /audit\.retention/,
    'an unknown unit',
  )
})

t.test('the Datapass-stated retention must be what the files keep', async (t) => {
  const retention = `${FILE}  retention: 12 months\n  rotatedEvery: 1d`
  t.match(
    refusal(() => load(retention, 'declaration: { retentionMonths: 24 }')),
    /retention\.yaml:17:\d+: declaration\.retentionMonths: Datapass would state 24 months, but the audit files are removed after 12 months \(audit\.retention, line 15\): state 12, or keep the files longer/,
  )
  t.match(
    refusal(() => load(retention, 'declaration: { retentionMonths: 6 }')),
    /declaration\.retentionMonths: Datapass would state 6 months, but the audit files are kept 12 months .*the data would outlive what is stated/,
  )
  t.match(
    refusal(() => load(FILE, 'declaration: { retentionMonths: 6 }')),
    /declaration\.retentionMonths: Datapass would state 6 months, but nothing removes the audit files \(audit\.file, line 13 has no audit\.retention\)/,
  )
})

t.test('a session may not outlive the retention', async (t) => {
  t.match(
    refusal(() =>
      load(`${FILE}  retention: 1 day\n  rotatedEvery: 1h`, '', '  idleTimeout: 30m\n  absoluteTimeout: 2d'),
    ),
    /session\.absoluteTimeout: a session lives up to 2d, longer than the data are kept \(audit\.retention: 1 day\)/,
  )
})

t.test('nor the Redis store’s indexes, which name the practitioner', async (t) => {
  t.equal(REDIS_INDEX_TTL_MS, INDEX_TTL_MS, 'the check knows how long the store keeps them')
  t.match(
    refusal(() =>
      load(
        `${FILE}  retention: 1 day\n  rotatedEvery: 1h`,
        '',
        '  store: { type: redis, url: "redis://127.0.0.1:6379" }',
      ),
    ),
    /session\.store\.type: the Redis session store keeps its back-channel indexes \(the practitioner's sub\) for 48 h/,
  )
})
