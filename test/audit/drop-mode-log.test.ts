// What the operational log says about an audit output in drop mode that cannot write (a syslog
// collector gone): the error line says what drop mode does (requests go on, events are dropped and
// counted, a gap record follows), not block mode's "requests wait, then 503"; and the drops get a
// warning line of their own, at most one every 10 s with the count since the last one.
import t from 'tap'
import { freePort } from '../helpers/stack.js'
import { until } from '../helpers/gateway-process.js'
import { startAuditStack } from './audit-stack.js'

t.test('drop mode, syslog down: the right error line, and rate-limited lines counting the drops', async (t) => {
  const deadPort = await freePort()
  const adminPort = await freePort()
  const stack = await startAuditStack({
    auditYaml: `audit:\n  stdout: false\n  syslog:\n    transport: tcp\n    host: 127.0.0.1\n    port: ${deadPort}\n    onBackpressure: drop\n    maxQueuedEvents: 5\n`,
    stack: { adminPort },
  })
  t.teardown(() => stack.close())
  const load = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const res = await fetch(`${stack.url}/public/item`)
      t.equal(res.status, 200, 'served: drop mode never holds a request')
      await res.arrayBuffer()
    }
  }
  await load(30)
  await until('the error line', async () => stack.logs.some((l) => l.includes('audit output cannot write')), 10_000)
  const errors = stack.logs.filter((l) => l.includes('audit output cannot write'))
  t.equal(errors.length, 1, 'one error line for the outage')
  t.notMatch(errors[0], /503/, 'no 503 promised: drop mode does not refuse requests')
  t.match(errors[0], /drop mode/)
  t.match(errors[0], /dropped and counted/)
  const drops = () =>
    stack.logs
      .filter((l) => l.includes('audit events dropped'))
      .map((l) => JSON.parse(l) as { lost: number; level: number })
  await until('a line about the drops', async () => drops().length >= 1, 10_000)
  const first = drops()
  t.equal(first.length, 1, 'one line, not one per dropped event')
  t.equal(first[0]!.level, 40, 'a warning')
  await load(10)
  t.equal(drops().length, 1, 'still one line within 10 s')
  await until('the next line, with the count since the first', async () => drops().length === 2, 15_000)
  const total = drops().reduce((n, d) => n + d.lost, 0)
  const metrics = await (await fetch(`${stack.adminUrl}/metrics`)).text()
  const counted = /psc_gateway_audit_dropped_events_total (\d+)/.exec(metrics)
  t.ok(counted, 'the metric')
  t.equal(total, Number(counted![1]), 'the lines count every drop')
})
