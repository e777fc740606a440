// Drop mode leaves a signed trace of what it dropped, and verify tells it apart from tampering;
// key ids on each line, verify with several keys, a restart with a new key continues the chain
// with a signed key-change record. Before: drop mode left no trace and verify said "intact"; a
// restart with a new key made the file unverifiable with either key.
import t from 'tap'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AuditEvent } from '../../src/audit/events.js'
import { keyIdOf } from '../../src/audit/chain.js'
import { FileDestination } from '../../src/audit/fd-destination.js'
import { QueuedSink } from '../../src/audit/queued-sink.js'
import { StreamDestination } from '../../src/audit/stream-destination.js'
import { verifyAuditFiles } from '../../src/audit/tools/verify.js'
import { formatVerifyReport, verifyExitCode } from '../../src/audit/tools/verify-report.js'
import { slowStream } from './audit-stack.js'
import { assertAuditLines } from './schema-lines.js'

const KEY_A = 'gaps-and-keys-key-A-0123456789abcdef0123'
const KEY_B = 'gaps-and-keys-key-B-0123456789abcdef0123'
const dir = mkdtempSync(join(tmpdir(), 'audit-gaps-'))

const event = (i: number): AuditEvent => ({
  v: 1,
  time: new Date().toISOString(),
  event: 'access',
  decision: 'allow',
  requestId: `r${i}`,
  client: '127.0.0.1',
  method: 'GET',
  path: `/p/${i}`,
  status: 200,
  durationMs: 1,
})

t.test(
  'drop mode: a chained gap record says how many were lost and when; verify lists it as a gap, not tampering',
  async (t) => {
    const stream = slowStream(5)
    const sink = new QueuedSink(new StreamDestination(stream, { hmacKey: KEY_A }), {
      maxQueuedEvents: 20,
      onBackpressure: 'drop',
    })
    for (let burst = 0; burst < 10; burst++) {
      for (let i = 0; i < 50; i++) sink.write(event(burst * 50 + i))
      await new Promise((r) => setTimeout(r, 2)) // time passing: bursts apart, so the slow stream drains between them
    }
    await sink.close()
    const file = join(dir, 'dropped.log')
    writeFileSync(file, stream.text())
    const lines = stream
      .text()
      .split('\n')
      .filter(Boolean)
      .map(
        (l) =>
          JSON.parse(l) as { event: string; lost?: number; from?: string; to?: string; reason?: string; seq: number },
      )
    const gaps = lines.filter((l) => l.event === 'gap')
    t.ok(sink.droppedEvents > 0, `events dropped (${sink.droppedEvents})`)
    t.equal(
      gaps.reduce((n, g) => n + g.lost!, 0),
      sink.droppedEvents,
      'the gap records add up to the events dropped',
    )
    for (const g of gaps) {
      t.equal(g.reason, 'queue-full')
      t.ok(g.from! <= g.to!, 'between two times')
    }
    const r = await verifyAuditFiles([file], Buffer.from(KEY_A))
    t.ok(r.ok, 'the chain itself is intact: the gap lines are signed and chained')
    t.equal(r.gaps.length, gaps.length)
    t.equal(r.lost, sink.droppedEvents)
    t.equal(verifyExitCode(r), 3, 'exit code 3: intact, but events were lost')
    t.match(
      formatVerifyReport(r),
      new RegExp(`GAPS: ${sink.droppedEvents} event\\(s\\) lost in ${gaps.length} gap record\\(s\\)`),
    )
    // A removed gap line is still tampering.
    const text = readFileSync(file, 'utf8').split('\n')
    const at = text.findIndex((l) => l.includes('"event":"gap"'))
    text.splice(at, 1)
    writeFileSync(file, text.join('\n'))
    const cut = await verifyAuditFiles([file], Buffer.from(KEY_A))
    t.equal(verifyExitCode(cut), 1)
    t.match(cut.findings, [{ kind: 'removed', line: at + 1 }])
    assertAuditLines(t, stream.text())
  },
)

async function writeWith(file: string, key: string, from: number, n: number): Promise<void> {
  const sink = new QueuedSink(new FileDestination(file, { hmacKey: key }))
  for (let i = from; i < from + n; i++) sink.write(event(i))
  await sink.close()
}

t.test(
  'key ids: each line names its key; a restart with a new key writes a signed key-change; verify needs both keys, and takes several',
  async (t) => {
    const file = join(dir, 'rotated-key.log')
    await writeWith(file, KEY_A, 0, 5)
    await writeWith(file, KEY_B, 5, 5)
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(
        (l) =>
          JSON.parse(l) as {
            kid: string
            event: string
            reason?: string
            previous?: { seq: number; mac: string; kid?: string }
            mac: string
          },
      )
    const kidA = keyIdOf(Buffer.from(KEY_A))
    const kidB = keyIdOf(Buffer.from(KEY_B))
    t.same(
      lines.map((l) => l.kid),
      [...Array(6).fill(kidA), ...Array(6).fill(kidB)],
      'every line names the key that signed it',
    )
    t.notOk(
      readFileSync(file, 'utf8').includes(KEY_A) || readFileSync(file, 'utf8').includes(KEY_B),
      'never the key itself',
    )
    t.match(lines[6], {
      event: 'chain-start',
      reason: 'key-change',
      previous: { seq: 5, mac: lines[5]!.mac, kid: kidA },
    })
    const both = await verifyAuditFiles([file], [Buffer.from(KEY_A), Buffer.from(KEY_B)])
    t.same(both.findings, [], 'both keys: intact across the key change')
    t.same(both.keyChanges, [{ file, line: 7, from: kidA, to: kidB }])
    t.match(formatVerifyReport(both), `key change: from key id ${kidA} to ${kidB}`)
    const onlyNew = await verifyAuditFiles([file], Buffer.from(KEY_B))
    t.same(
      onlyNew.findings.map((f) => `${f.line}:${f.kind}`),
      ['1:unknown-key', '2:unknown-key', '3:unknown-key', '4:unknown-key', '5:unknown-key', '6:unknown-key'],
      'the new key alone: the old lines are named as signed by a key not given, the new ones verify',
    )
    // A forged line under the new key id, without the key: edited, not unknown.
    const text = readFileSync(file, 'utf8').split('\n')
    text[9] = text[9]!.replace('"status":200', '"status":201')
    writeFileSync(file, text.join('\n'))
    const forged = await verifyAuditFiles([file], [Buffer.from(KEY_A), Buffer.from(KEY_B)])
    t.same(
      forged.findings.map((f) => `${f.line}:${f.kind}`),
      ['10:edited'],
    )
    assertAuditLines(t, readFileSync(file, 'utf8'))
  },
)
