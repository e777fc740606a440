// Metrics over a real stack (emulator + upstream + gateway on loopback): every family the issue
// lists moves when its event happens, labels stay within fixed vocabularies, and no identity ends
// up in a label. Metric text is read from the gateway's own registry; the admin listener itself is
// covered in admin.test.ts.
import { createServer } from 'node:http'
import t from 'tap'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { startDelayedUpstream } from '../helpers/delayed-upstream.js'
import { startStack, type Stack } from '../helpers/stack.js'
import { parsePrometheusText, sampleValue } from './prometheus-text.js'

const MEDECIN = '899700218896'

/** The access audit event (and so the metric) is written when the response is done, which can be
 * just after the client has it: wait for the count of access events. */
async function accessEvents(stack: Stack, count: number): Promise<void> {
  const deadline = Date.now() + 5000
  while (stack.audit.filter((e) => e.event === 'access').length < count) {
    if (Date.now() > deadline)
      throw new Error(`expected ${count} access events, got ${stack.audit.filter((e) => e.event === 'access').length}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}
const PHARMACIEN = '899700367915'

t.test('requests, logins, logouts, sessions, PSC calls and upstream latency are counted', async (t) => {
  const stack = await startStack()
  t.teardown(() => stack.close())
  const metrics = async () => parsePrometheusText(await stack.gateway.metrics.registry.metrics())

  const before = await metrics()
  t.equal(
    sampleValue(before, 'psc_gateway_psc_calls_total', { endpoint: 'discovery', outcome: 'ok' }),
    1,
    'discovery counted at start',
  )
  t.equal(sampleValue(before, 'psc_gateway_active_sessions', {}), 0)
  t.equal(
    sampleValue(before, 'psc_gateway_config_reloads_total', { outcome: 'ok' }),
    0,
    'reload series exist before any reload',
  )
  t.equal(sampleValue(before, 'psc_gateway_config_reloads_total', { outcome: 'refused' }), 0)
  t.ok(
    before.some((s) => s.name === 'process_cpu_user_seconds_total'),
    'default process metrics',
  )
  t.ok(
    before.some((s) => s.name === 'nodejs_eventloop_lag_seconds'),
    'default Node metrics',
  )

  t.equal((await fetch(`${stack.url}/public/a`)).status, 200)
  t.equal((await fetch(`${stack.url}/public/b`)).status, 200)
  t.equal((await fetch(`${stack.url}/nowhere`, { headers: { accept: 'application/json' } })).status, 401)

  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${stack.url}/`, MEDECIN)
  t.equal((await client.get(`${stack.url}/pharmacie/stock`)).status, 403)
  const bad = await fetch(`${stack.url}/a/%2F/b`)
  t.equal(bad.status, 400)
  await bad.text()
  // A callback that matches no started login: a failed login, reason "state".
  t.equal((await fetch(`${stack.url}/_psc/callback?state=forged&code=x`)).status, 400)

  await accessEvents(stack, 4)
  while (!stack.audit.some((e) => e.event === 'access' && e.decision === 'reject'))
    await new Promise((r) => setTimeout(r, 10))
  const during = await metrics()
  t.equal(sampleValue(during, 'psc_gateway_active_sessions', {}), 1)
  t.equal(sampleValue(during, 'psc_gateway_logins_total', { outcome: 'started', reason: '' }), 1)
  t.equal(sampleValue(during, 'psc_gateway_logins_total', { outcome: 'succeeded', reason: '' }), 1)
  t.equal(sampleValue(during, 'psc_gateway_logins_total', { outcome: 'failed', reason: 'state' }), 1)
  t.equal(
    sampleValue(during, 'psc_gateway_requests_total', { route: 'public', decision: 'allow', status_class: '2xx' }),
    2,
  )
  t.equal(
    sampleValue(during, 'psc_gateway_requests_total', { route: 'application', decision: 'login', status_class: '4xx' }),
    1,
  )
  t.equal(
    sampleValue(during, 'psc_gateway_requests_total', { route: 'pharmacie', decision: 'deny', status_class: '4xx' }),
    1,
  )
  t.equal(
    sampleValue(during, 'psc_gateway_requests_total', { route: '(none)', decision: 'reject', status_class: '4xx' }),
    1,
  )
  t.ok(
    sampleValue(during, 'psc_gateway_requests_total', {
      route: 'application',
      decision: 'allow',
      status_class: '2xx',
    })! >= 1,
    'the landing page after login',
  )
  t.equal(sampleValue(during, 'psc_gateway_request_duration_seconds_count', { route: 'public', decision: 'allow' }), 2)
  t.ok(
    sampleValue(during, 'psc_gateway_upstream_duration_seconds_count', { upstream: 'app', status_class: '2xx' })! >= 3,
  )
  t.equal(sampleValue(during, 'psc_gateway_psc_calls_total', { endpoint: 'token', outcome: 'ok' }), 1)
  t.equal(sampleValue(during, 'psc_gateway_psc_calls_total', { endpoint: 'userinfo', outcome: 'ok' }), 1)
  t.equal(sampleValue(during, 'psc_gateway_psc_call_duration_seconds_count', { endpoint: 'token' }), 1)

  t.equal((await client.follow(`${stack.url}/_psc/logout`, 10)).status, 200)
  const after = await metrics()
  t.equal(sampleValue(after, 'psc_gateway_logouts_total', { cause: 'user' }), 1)
  t.equal(sampleValue(after, 'psc_gateway_active_sessions', {}), 0)

  // No identity, path or session material in any label.
  const text = await stack.gateway.metrics.registry.metrics()
  for (const secret of [MEDECIN, PHARMACIEN, '/public/a', '/pharmacie/stock', 'forged', 'Médecin']) {
    t.notOk(text.includes(secret), `"${secret}" appears nowhere in /metrics`)
  }
})

t.test('upstream errors are counted by upstream and kind', async (t) => {
  const slow = await startDelayedUpstream(2000)
  const stack = await startStack({ upstreamTimeout: '300ms', upstreamUrl: slow.url })
  t.teardown(() => stack.close())

  t.equal((await fetch(`${stack.url}/public/x`)).status, 504)
  await slow.close() // now the same upstream refuses connections
  t.equal((await fetch(`${stack.url}/public/x`)).status, 502)

  await accessEvents(stack, 2)
  const samples = parsePrometheusText(await stack.gateway.metrics.registry.metrics())
  t.equal(sampleValue(samples, 'psc_gateway_upstream_errors_total', { upstream: 'app', kind: 'timeout' }), 1)
  t.equal(sampleValue(samples, 'psc_gateway_upstream_errors_total', { upstream: 'app', kind: 'refused' }), 1)
  t.equal(
    sampleValue(samples, 'psc_gateway_upstream_duration_seconds_count', { upstream: 'app', status_class: 'error' }),
    2,
  )
  const sum = sampleValue(samples, 'psc_gateway_upstream_duration_seconds_sum', {
    upstream: 'app',
    status_class: 'error',
  })!
  t.ok(sum >= 0.3, `the timed-out call counts its wait (${sum} s)`)
  t.equal(
    sampleValue(samples, 'psc_gateway_requests_total', { route: 'public', decision: 'allow', status_class: '5xx' }),
    2,
  )
})

t.test('PSC unreachable: discovery calls are counted as unreachable', async (t) => {
  const closed = createServer()
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
  const port = (closed.address() as { port: number }).port
  await new Promise<void>((r) => closed.close(() => r()))
  const stack = await startStack({ issuer: `http://127.0.0.1:${port}` })
  t.teardown(() => stack.close())
  await stack.gateway.psc.start()
  const samples = parsePrometheusText(await stack.gateway.metrics.registry.metrics())
  t.equal(sampleValue(samples, 'psc_gateway_psc_calls_total', { endpoint: 'discovery', outcome: 'unreachable' }), 1)
})

t.test('two gateways in one process keep separate registries', async (t) => {
  const a = await startStack()
  t.teardown(() => a.close())
  const b = await startStack({ emulator: a.emulator! })
  t.teardown(() => b.close())
  await fetch(`${a.url}/public/x`).then((r) => r.text())
  await accessEvents(a, 1)
  const count = async (s: typeof a) =>
    sampleValue(parsePrometheusText(await s.gateway.metrics.registry.metrics()), 'psc_gateway_requests_total', {
      route: 'public',
      decision: 'allow',
      status_class: '2xx',
    })
  t.equal(await count(a), 1)
  t.equal(await count(b), undefined)
})
