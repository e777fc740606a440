// verify flags time going backwards inside a chain: access events are written in the order their
// responses end, so an access event earlier than the one before it means the host's clock was set
// back (or lines forged with the key). Other events may legitimately carry an earlier time (a
// login is timed when it happened, written with its request's access event): they are not flagged.
// The finding is the same whatever the path (threads, blocks, line by line).
import t from 'tap'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AuditEvent } from '../../src/audit/events.js'
import { FileDestination } from '../../src/audit/fd-destination.js'
import { QueuedSink } from '../../src/audit/queued-sink.js'
import { ChainVerifier, verifyAuditFiles } from '../../src/audit/tools/verify.js'
import { formatVerifyReport, verifyExitCode, type VerifyReport } from '../../src/audit/tools/verify-report.js'

const KEY = 'time-backwards-key-0123456789abcdef01234'
const keys = [Buffer.from(KEY)]
const dir = mkdtempSync(join(tmpdir(), 'audit-time-'))
const T0 = Date.UTC(2025, 2, 1, 8)

const access = (i: number, ms: number): AuditEvent =>
  ({
    v: 1,
    time: new Date(ms).toISOString(),
    event: 'access',
    decision: 'allow',
    requestId: `req-${i}`,
    client: '10.0.0.2',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0',
    route: 'application',
    method: 'GET',
    path: `/dossier/${i}`,
    status: 200,
    durationMs: 1.25,
  }) as AuditEvent

function lineByLine(file: string): VerifyReport {
  const v = new ChainVerifier(keys)
  v.beginFile(file)
  const text = readFileSync(file, 'utf8')
  const lines = text.split('\n')
  lines.pop()
  lines.forEach((l, i) => {
    v.line(file, i + 1, l)
  })
  v.endFile(file, true)
  return v.finish()
}

async function write(file: string, events: AuditEvent[]): Promise<void> {
  const sink = new QueuedSink(new FileDestination(file, { hmacKey: KEY }), { maxQueuedEvents: 100_000 })
  for (const e of events) sink.write(e)
  await sink.close()
}

t.test('a clock set back: flagged where it happens, the same with threads, blocks and line by line', async (t) => {
  const file = join(dir, 'back.log')
  const events: AuditEvent[] = []
  const backAt = new Set([3_000, 7_777, 12_001])
  let ms = T0
  for (let i = 0; i < 15_000; i++) {
    ms += backAt.has(i) ? -60_000 : 10
    events.push(access(i, ms))
  }
  await write(file, events)
  const reference = lineByLine(file)
  t.same(await verifyAuditFiles([file], keys, { threads: 0 }), reference, 'without threads')
  t.same(await verifyAuditFiles([file], keys, { threads: 2 }), reference, 'with threads')
  t.same(
    reference.findings.map((f) => f.kind),
    ['time-backwards', 'time-backwards', 'time-backwards'],
    'each step back, once',
  )
  // line 1 is the chain-start: event i is on line i + 2
  t.same(
    reference.findings.map((f) => f.line),
    [3_002, 7_779, 12_003],
  )
  t.match(reference.findings[0]!.message, `(${file}:3001) at ${events[2_999]!.time}`)
  t.match(reference.findings[0]!.message, /clock was set back/)
  t.equal(verifyExitCode(reference), 1)
  t.match(formatVerifyReport(reference), /time-backwards: time goes back/)
})

t.test(
  'an intact file whose other events carry earlier times (a login written with its request) is not flagged',
  async (t) => {
    const file = join(dir, 'login.log')
    const events: AuditEvent[] = []
    let ms = T0
    for (let i = 0; i < 3_000; i++) {
      ms += 10
      if (i % 100 === 0)
        events.push({
          v: 1,
          time: new Date(ms - 5_000).toISOString(),
          event: 'login',
          outcome: 'succeeded',
          requestId: `req-${i}`,
          client: '10.0.0.2',
          method: 'GET',
          path: '/_psc/callback',
          status: 302,
          durationMs: 5_000,
          idNat: '899700218896',
        } as AuditEvent)
      events.push(access(i, ms))
    }
    await write(file, events)
    const r = await verifyAuditFiles([file], keys, { threads: 2 })
    t.same(r.findings, [])
    t.same(lineByLine(file).findings, [])
  },
)
