// The trail shipped to a SIEM through a real rsyslog (Debian's, started here on 127.0.0.1 with a
// test CA): RFC 5424 over TLS (RFC 5425) and over UDP, one JSON event per message, valid against
// the published schema; the chain head sent there too, so `verify --expect-head` can use it;
// block mode waits out a syslog restart without losing events, drop mode records what it lost.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AuditEvent } from '../../src/audit/events.js'
import { createAuditOutput } from '../../src/audit/sinks.js'
import { verifyAuditFiles } from '../../src/audit/tools/verify.js'
import { until } from '../helpers/gateway-process.js'
import { startAuditStack } from './audit-stack.js'
import { startRsyslog } from './rsyslog.js'
import { assertAuditLines } from './schema-lines.js'

const KEY = 'syslog-test-hmac-key-0123456789abcdef0123'

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

t.test('the gateway ships every event to rsyslog over TLS, with the chain head of its file', async (t) => {
  const rs = await startRsyslog()
  t.teardown(() => rs.stop())
  const file = join(mkdtempSync(join(tmpdir(), 'audit-syslog-')), 'audit.log')
  const stack = await startAuditStack({
    auditYaml: `audit:
  stdout: false
  file: ${file}
  hmacKey: \${AUDIT_HMAC_KEY}
  headEvery: 200ms
  syslog:
    transport: tls
    host: 127.0.0.1
    port: ${rs.tlsPort}
    caFile: ${rs.caFile}
`,
    env: { AUDIT_HMAC_KEY: KEY },
  })
  t.teardown(() => stack.close())
  const ids: string[] = []
  for (let i = 0; i < 20; i++) {
    const res = await fetch(`${stack.url}/public/item-${i}`)
    await res.arrayBuffer()
    ids.push(res.headers.get('x-request-id') ?? '')
  }
  const accessIds = () =>
    rs
      .received()
      .filter((m) => m.msgid === 'access')
      .map((m) => (JSON.parse(m.msg) as { requestId: string }).requestId)
  await until('rsyslog to receive the 20 access events', async () => accessIds().length >= 20)
  const got = rs.received()
  t.ok(
    got.every((m) => m.app === 'psc-gateway'),
    'APP-NAME',
  )
  t.equal(got.filter((m) => m.msgid === 'access').length, 20, 'each access event once')
  t.ok(
    got.some((m) => m.msgid === 'config'),
    'the config loaded event too',
  )
  await until('a chain head to reach rsyslog', async () => rs.received().some((m) => m.msgid === 'chain-head'))
  assertAuditLines(
    t,
    rs
      .received()
      .map((m) => m.msg)
      .join('\n'),
    'syslog messages',
  )
  // The last head received off the host proves the file was not cut since.
  await stack.gateway.audit.flush()
  await new Promise((r) => setTimeout(r, 500)) // time passing: chain heads are sent on a timer, after the last write
  const heads = rs
    .received()
    .filter((m) => m.msgid === 'chain-head')
    .map((m) => JSON.parse(m.msg) as { seq: number; mac: string; file: string })
  const last = heads[heads.length - 1]!
  t.equal(last.file, file)
  const r = await verifyAuditFiles([file], Buffer.from(KEY), { expectHead: `${last.seq}:${last.mac}` })
  t.same(r.findings, [], 'the file holds the head rsyslog received')
  t.ok(r.expectedHeadAt !== undefined)
  t.ok(readFileSync(file, 'utf8').length > 0)
})

t.test('UDP: one datagram per event', async (t) => {
  const rs = await startRsyslog()
  t.teardown(() => rs.stop())
  const out = createAuditOutput({
    stdout: false,
    onBackpressure: 'block',
    includeQuery: false,
    maxQueuedEvents: 100,
    syslog: {
      transport: 'udp',
      host: '127.0.0.1',
      port: rs.udpPort,
      facility: 13,
      appName: 'psc-gw-udp',
      onBackpressure: 'block',
      maxQueuedEvents: 100,
    },
  })
  for (let i = 0; i < 10; i++) out.write(event(`udp-${i}`))
  await out.flush()
  await until('rsyslog to receive 10 datagrams', async () => rs.received().length >= 10)
  t.same(
    rs.received().map((m) => (JSON.parse(m.msg) as { requestId: string }).requestId),
    Array.from({ length: 10 }, (_, i) => `udp-${i}`),
  )
  t.ok(rs.received().every((m) => m.app === 'psc-gw-udp' && m.msgid === 'access'))
  assertAuditLines(
    t,
    rs
      .received()
      .map((m) => m.msg)
      .join('\n'),
    'syslog messages',
  )
  await out.close()
})

t.test(
  'block mode: syslog down holds the events (not ready, requests refused after the wait), then delivers them on reconnection',
  async (t) => {
    const rs = await startRsyslog()
    t.teardown(() => rs.stop())
    const hold = setInterval(() => {}, 1000)
    t.teardown(() => clearInterval(hold))
    const failing: string[] = []
    const out = createAuditOutput(
      {
        stdout: false,
        onBackpressure: 'block',
        includeQuery: false,
        maxQueuedEvents: 100,
        syslog: {
          transport: 'tls',
          host: '127.0.0.1',
          port: rs.tlsPort,
          ca: readFileSync(rs.caFile, 'utf8'),
          facility: 13,
          appName: 'psc-gateway',
          onBackpressure: 'block',
          maxQueuedEvents: 100,
        },
      },
      { failing: (_n, err) => failing.push(err.message) },
    )
    out.write(event('before'))
    await out.flush()
    await rs.stop()
    await new Promise((r) => setTimeout(r, 300)) // time passing: the output notices the collector gone only when it next writes
    for (let i = 0; i < 5; i++) out.write(event(`during-${i}`))
    await until('the output to say it cannot write', async () => !out.health().ok)
    t.match(out.health().reason, /syslog tls:\/\/127\.0\.0\.1:\d+: cannot write since .*ECONNREFUSED/)
    t.equal(await out.admit(200), false, 'a new request would get 503')
    t.equal(failing.length, 1)
    await rs.start()
    await until(
      'the events held to be delivered',
      async () => rs.received().filter((m) => m.msg.includes('during-')).length >= 5,
      20_000,
    )
    t.ok(out.health().ok, 'writable again')
    const ids = rs.received().map((m) => (JSON.parse(m.msg) as { requestId: string }).requestId)
    for (let i = 0; i < 5; i++) t.ok(ids.includes(`during-${i}`), `during-${i} delivered`)
    await out.close()
  },
)

t.test(
  'drop mode: syslog down loses events without holding requests, and says so with a gap record once back',
  async (t) => {
    const rs = await startRsyslog()
    t.teardown(() => rs.stop())
    const hold = setInterval(() => {}, 1000)
    t.teardown(() => clearInterval(hold))
    const failing: string[] = []
    const out = createAuditOutput(
      {
        stdout: false,
        onBackpressure: 'block',
        includeQuery: false,
        maxQueuedEvents: 100,
        syslog: {
          transport: 'tls',
          host: '127.0.0.1',
          port: rs.tlsPort,
          ca: readFileSync(rs.caFile, 'utf8'),
          facility: 13,
          appName: 'psc-gateway',
          onBackpressure: 'drop',
          maxQueuedEvents: 5,
        },
      },
      { failing: (_n, err) => failing.push(err.message) },
    )
    await rs.stop()
    // The output learns that the collector is gone from a write that fails; until then a full queue
    // loses events as 'queue-full', not 'unwritable'.
    out.write(event('probe'))
    await until('the output to find the collector gone', async () => failing.length > 0)
    for (let i = 0; i < 30; i++) out.write(event(`lost-${i}`))
    await new Promise((r) => setTimeout(r, 300)) // time passing: the drop mode must not hold anything while the collector is gone
    t.equal(out.admit(200), undefined, 'requests are never held in drop mode')
    t.ok(out.health().ok, 'nor is the gateway taken out of service')
    t.ok(out.droppedEvents >= 25, `dropped ${out.droppedEvents}`)
    const dropped = out.droppedEvents
    await rs.start()
    out.write(event('after'))
    await until('the gap record to arrive', async () => rs.received().some((m) => m.msgid === 'gap'), 20_000)
    const gaps = rs
      .received()
      .filter((m) => m.msgid === 'gap')
      .map((m) => JSON.parse(m.msg) as { lost: number; reason: string })
    // ("after" itself may have met the queue still full: dropped and counted too)
    t.ok(out.droppedEvents >= dropped)
    t.equal(
      gaps.reduce((n, g) => n + g.lost, 0),
      out.droppedEvents,
      'the gap records count exactly what was dropped',
    )
    t.ok(
      gaps.every((g) => g.reason === 'unwritable'),
      'and why',
    )
    assertAuditLines(
      t,
      rs
        .received()
        .map((m) => m.msg)
        .join('\n'),
      'syslog messages',
    )
    await out.close()
  },
)
