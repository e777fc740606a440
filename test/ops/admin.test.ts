// The admin listener over real HTTP: its own port, /healthz, /readyz with every check and its
// reason, /metrics in the Prometheus text format; none of it on the public port.
import { Registry } from 'prom-client'
import t from 'tap'
import { buildAdminApp } from '../../src/ops/admin.js'
import { loadConfigText } from '../../src/config/load.js'
import { buildGateway } from '../../src/gateway.js'
import { startDemoApp } from '../../dev/demo/app.js'
import { reservePort } from '../helpers/ports.js'
import { CLIENT_SECRET, stackYaml } from '../helpers/stack.js'
import { Writable } from 'node:stream'
import { createServer } from 'node:http'
import { parsePrometheusText } from './prometheus-text.js'

const quiet = () => new Writable({ write: (_c, _e, done) => done() })

async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

t.test('a gateway with its admin listener: probes and metrics on the admin port only', async (t) => {
  const upstream = await startDemoApp(0)
  t.teardown(() => upstream.close())
  const reserved = await reservePort()
  const port = reserved.port
  // PSC down: the process is alive, not ready, and says why.
  const yaml = stackYaml({ port, issuer: `http://127.0.0.1:${await closedPort()}`, upstreamUrl: upstream.url }).replace(
    'admin: { enabled: false }',
    'admin: { enabled: true, host: 127.0.0.1, port: 0 }',
  )
  const { config } = loadConfigText(yaml, 'admin-test.yaml', { TEST_CLIENT_SECRET: CLIENT_SECRET })
  const gateway = await buildGateway(config, { logStream: quiet() as never, audit: { write: () => undefined } })
  t.teardown(() => gateway.close())
  const { url, adminUrl } = await gateway.listen(reserved)
  t.ok(adminUrl)
  t.not(new URL(adminUrl!).port, new URL(url).port, 'its own port')

  t.same(await (await fetch(`${adminUrl}/healthz`)).json(), { status: 'ok' })

  const notReady = await fetch(`${adminUrl}/readyz`)
  t.equal(notReady.status, 503)
  t.equal(notReady.headers.get('cache-control'), 'no-store')
  const body = (await notReady.json()) as { status: string; checks: Record<string, { ok: boolean; reason?: string }> }
  t.equal(body.status, 'not ready')
  t.same(Object.keys(body.checks).sort(), ['audit', 'config', 'lifecycle', 'psc', 'sessions'])
  t.same(body.checks.audit, { ok: true }, 'the audit trail can be written')
  t.match(body.checks.psc, { ok: false, reason: /PSC discovery failed/ })
  t.same(body.checks.sessions, { ok: true, reason: 'memory store reachable' })
  t.match(body.checks.config, { ok: true, reason: /admin-test\.yaml: 5 routes/ })

  const metrics = await fetch(`${adminUrl}/metrics`)
  t.equal(metrics.status, 200)
  t.match(metrics.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
  const samples = parsePrometheusText(await metrics.text())
  t.ok(
    samples.some(
      (s) =>
        s.name === 'psc_gateway_psc_calls_total' &&
        s.labels.endpoint === 'discovery' &&
        s.labels.outcome === 'unreachable',
    ),
  )

  for (const path of ['/metrics', '/healthz', '/readyz']) {
    const res = await fetch(url + path, { headers: { accept: 'application/json' } })
    const text = await res.text()
    t.not(res.status, 200, `${path} is not served on the public port`)
    t.notMatch(text, /psc_gateway_|"checks"/)
  }
})

t.test('readiness checks: async, failing, throwing and hanging checks each report a reason', async (t) => {
  const admin = buildAdminApp(
    [
      { name: 'fast', check: () => ({ ok: true }) },
      { name: 'async', check: async () => ({ ok: true, reason: 'pong' }) },
      {
        name: 'throws',
        check: () => {
          throw new Error('store exploded')
        },
      },
      { name: 'hangs', check: () => new Promise(() => undefined) },
    ],
    { checkTimeoutMs: 100 },
  )
  t.teardown(() => admin.close())
  const res = await admin.inject('/readyz')
  t.equal(res.statusCode, 503)
  t.same(res.json(), {
    status: 'not ready',
    checks: {
      fast: { ok: true },
      async: { ok: true, reason: 'pong' },
      throws: { ok: false, reason: 'store exploded' },
      hangs: { ok: false, reason: 'no answer within 100 ms' },
    },
  })
  t.equal((await admin.inject('/metrics')).statusCode, 404, 'no /metrics without a registry')
})

t.test(
  'a report-only failure (the shared session store) shows in /readyz and /metrics without making the pod unready',
  async (t) => {
    const { Registry } = await import('prom-client')
    const { sessionStoreCheck } = await import('../../src/ops/readiness.js')
    let redisUp = false
    const store = {
      kind: 'redis',
      size: () => 0,
      health: () => (redisUp ? { ok: true } : { ok: false, reason: 'Redis: connect ECONNREFUSED 127.0.0.1:6379' }),
    }
    const registry = new Registry()
    const admin = buildAdminApp(
      [
        { name: 'config', check: () => ({ ok: true }) },
        { name: 'sessions', check: () => sessionStoreCheck(store) },
      ],
      { metrics: registry },
    )
    t.teardown(() => admin.close())

    const down = await admin.inject('/readyz')
    t.equal(down.statusCode, 200, 'still ready: a Redis outage must not take every replica out of the Service')
    t.same(down.json(), {
      status: 'ready',
      degraded: ['sessions'],
      checks: {
        config: { ok: true },
        sessions: { ok: false, reportOnly: true, reason: 'redis store: Redis: connect ECONNREFUSED 127.0.0.1:6379' },
      },
    })
    let samples = parsePrometheusText((await admin.inject('/metrics')).body)
    t.equal(
      samples.find((s) => s.name === 'psc_gateway_readiness_check_ok' && s.labels.check === 'sessions')?.value,
      0,
      'the outage is a metric (the alert reads it)',
    )
    t.equal(samples.find((s) => s.name === 'psc_gateway_readiness_check_ok' && s.labels.check === 'config')?.value, 1)

    redisUp = true
    const up = await admin.inject('/readyz')
    t.same(up.json(), {
      status: 'ready',
      checks: { config: { ok: true }, sessions: { ok: true, reason: 'redis store reachable' } },
    })
    samples = parsePrometheusText((await admin.inject('/metrics')).body)
    t.equal(samples.find((s) => s.name === 'psc_gateway_readiness_check_ok' && s.labels.check === 'sessions')?.value, 1)

    // A failure that is not report-only still makes the pod unready.
    const strict = buildAdminApp([
      { name: 'lifecycle', check: () => ({ ok: false, reason: 'shutting down' }) },
      { name: 'sessions', check: () => sessionStoreCheck({ ...store, health: () => ({ ok: false }) }) },
    ])
    t.teardown(() => strict.close())
    const res = await strict.inject('/readyz')
    t.equal(res.statusCode, 503)
    t.equal(res.json().status, 'not ready')
    t.notOk('degraded' in res.json())
  },
)

t.test(
  "an address the admin port does not serve: 404 that lists what it serves, JSON or a French page, never fastify's English",
  async (t) => {
    const admin = buildAdminApp([{ name: 'fast', check: () => ({ ok: true }) }], { metrics: new Registry() })
    t.teardown(() => admin.close())
    const curl = await admin.inject({ url: '/metrcs?x=1', headers: { accept: '*/*' } })
    t.equal(curl.statusCode, 404)
    t.same(curl.json(), {
      error: 'not_found',
      message:
        "Adresse inconnue sur le port d'administration : /metrcs. Adresses servies : /healthz, /readyz, /metrics.",
      endpoints: ['/healthz', '/readyz', '/metrics'],
    })
    t.notMatch(curl.body, /Route GET:|Not Found/, "not fastify's default answer")
    const english = await admin.inject({ url: '/nope', headers: { 'accept-language': 'en' } })
    t.match(english.json(), {
      message: 'Unknown address on the admin port: /nope. Addresses served: /healthz, /readyz, /metrics.',
    })
    const browser = await admin.inject({
      url: '/',
      headers: { accept: 'text/html,application/xhtml+xml', 'accept-language': 'fr-FR,fr;q=0.9' },
    })
    t.equal(browser.statusCode, 404)
    t.match(browser.headers['content-type'], /^text\/html/)
    t.match(browser.body, '<h1>Adresse inconnue</h1>')
    t.match(browser.body, '<a class="button" href="/readyz">/readyz</a>')
    const post = await admin.inject({ method: 'POST', url: '/healthz' })
    t.equal(post.statusCode, 404, 'a method not served: the same answer')
    t.equal(post.json().error, 'not_found')
  },
)
