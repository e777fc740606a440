// Syslog over RELP to a real rsyslog (Debian's rsyslog with rsyslog-relp, imrelp): each message is
// acknowledged by the collector, so events sent while the collector stops are not lost (over TCP
// and TLS the last milliseconds' were, without trace): every event arrives, none is lost, a batch
// cut by the stop is sent again from its first unacknowledged message. Also through the gateway
// (the YAML `transport: relp`), with the chained file beside it.
import t from 'tap'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AuditEvent } from '../../src/audit/events.js'
import { RelpFrameReader, relpFrame } from '../../src/audit/relp-destination.js'
import { createAuditOutput } from '../../src/audit/sinks.js'
import { verifyAuditFiles } from '../../src/audit/tools/verify.js'
import { until } from '../helpers/gateway-process.js'
import { startAuditStack } from './audit-stack.js'
import { startRsyslog } from './rsyslog.js'
import { assertAuditLines } from './schema-lines.js'

const KEY = 'relp-test-hmac-key-0123456789abcdef012345'

const event = (id: string): AuditEvent => ({
  v: 1,
  time: new Date().toISOString(),
  event: 'access',
  decision: 'allow',
  requestId: id,
  client: '10.0.0.9',
  method: 'GET',
  path: '/x',
  status: 200,
  durationMs: 1,
})

t.test('RELP frames: written and read back, split anywhere', async (t) => {
  const text = relpFrame(1, 'rsp', '200 OK') + relpFrame(0, 'serverclose', '') + relpFrame(2, 'rsp', '500 déjà vu')
  const whole = new RelpFrameReader().push(Buffer.from(text))
  t.same(
    whole.map((f) => [f.txnr, f.command, f.data.toString()]),
    [
      [1, 'rsp', '200 OK'],
      [0, 'serverclose', ''],
      [2, 'rsp', '500 déjà vu'],
    ],
  )
  const bytes = Buffer.from(text)
  const badCuts: number[] = []
  for (let cut = 1; cut < bytes.length; cut++) {
    const reader = new RelpFrameReader()
    const frames = [...reader.push(bytes.subarray(0, cut)), ...reader.push(bytes.subarray(cut))]
    if (frames.length !== 3 || frames[2]!.data.toString() !== '500 déjà vu') badCuts.push(cut)
  }
  t.same(badCuts, [], 'the same frames wherever the bytes are cut')
  t.throws(() => new RelpFrameReader().push(Buffer.from('HTTP/1.1 400 Bad Request\r\n')), /not a RELP frame/)
})

t.test('the collector stops and comes back while events are sent: every event arrives, nothing lost', async (t) => {
  const rs = await startRsyslog({ relp: true })
  t.teardown(() => rs.stop())
  const hold = setInterval(() => {}, 1000)
  t.teardown(() => clearInterval(hold))
  const failing: string[] = []
  const out = createAuditOutput(
    {
      stdout: false,
      onBackpressure: 'block',
      includeQuery: false,
      maxQueuedEvents: 100_000,
      syslog: {
        transport: 'relp',
        host: '127.0.0.1',
        port: rs.relpPort,
        facility: 13,
        appName: 'psc-gateway',
        onBackpressure: 'block',
        maxQueuedEvents: 100_000,
      },
    },
    { failing: (_n, err) => failing.push(err.message) },
  )
  const N = 3000
  let stopped: Promise<void> | undefined
  for (let i = 0; i < N; i++) {
    out.write(event(`ev-${i}`))
    if (i % 20 === 0) await new Promise((r) => setTimeout(r, 2)) // time passing: the stream spread over time, so the collector stops in its middle
    // the collector stops in the middle of the stream, events still being sent
    if (i === 1000) stopped = rs.stop()
    if (i === 2000) {
      await stopped
      await rs.start()
    }
  }
  await until(
    'every event to be acknowledged',
    async () => {
      await out.flush()
      return out.health().ok
    },
    60_000,
  )
  await out.close()
  const ids = rs
    .received()
    .filter((m) => m.msgid === 'access')
    .map((m) => (JSON.parse(m.msg) as { requestId: string }).requestId)
  const unique = new Set(ids)
  const missing = Array.from({ length: N }, (_, i) => `ev-${i}`).filter((id) => !unique.has(id))
  t.same(missing, [], `every event arrived (${ids.length} messages, ${ids.length - unique.size} twice)`)
  t.ok(failing.length >= 1, 'the outage was reported')
  t.ok(ids.length - unique.size <= 128, 'at most a window of messages sent twice (acknowledged ones are not resent)')
  t.equal(out.droppedEvents, 0)
  assertAuditLines(
    t,
    rs
      .received()
      .map((m) => m.msg)
      .join('\n'),
    'RELP messages',
  )
})

t.test('the gateway with `transport: relp`: events and the chain head reach rsyslog; the file verifies', async (t) => {
  const rs = await startRsyslog({ relp: true })
  t.teardown(() => rs.stop())
  const file = join(mkdtempSync(join(tmpdir(), 'relp-')), 'audit.log')
  const stack = await startAuditStack({
    auditYaml: `audit:\n  stdout: false\n  file: ${file}\n  hmacKey: \${AUDIT_HMAC_KEY}\n  headEvery: 200ms\n  syslog:\n    transport: relp\n    host: 127.0.0.1\n    port: ${rs.relpPort}\n`,
    env: { AUDIT_HMAC_KEY: KEY },
  })
  t.teardown(() => stack.close())
  for (let i = 0; i < 10; i++) await (await fetch(`${stack.url}/public/item?n=${i}`)).arrayBuffer()
  await until(
    'the events and a chain head in rsyslog',
    async () =>
      rs.received().filter((m) => m.msgid === 'access').length >= 10 &&
      rs.received().some((m) => m.msgid === 'chain-head'),
    20_000,
  )
  const r = await verifyAuditFiles([file], Buffer.from(KEY))
  t.same(r.findings, [])
  t.ok(rs.received().every((m) => m.app === 'psc-gateway'))
  assertAuditLines(t, readFileSync(file, 'utf8'))
})
