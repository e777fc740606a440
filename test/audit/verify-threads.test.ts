// verify and query over big files check each block of lines on worker threads (block-pipeline.ts)
// and on the lines' bytes (line-check.ts), and only look at a block's last line when its lines
// simply follow each other. That shortcut must never change a verdict: the same files, with every
// kind of finding, gap and key change spread through them, give the very same report with worker
// threads, without, and through the line-by-line path (ChainVerifier.line on each line's text).
import t from 'tap'
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import type { AuditEvent } from '../../src/audit/events.js'
import { FileDestination } from '../../src/audit/fd-destination.js'
import { queryAuditFiles } from '../../src/audit/tools/query.js'
import { QueuedSink } from '../../src/audit/queued-sink.js'
import { ChainVerifier, verifyAuditFiles } from '../../src/audit/tools/verify.js'
import type { VerifyReport } from '../../src/audit/tools/verify-report.js'

const KEY_A = 'verify-threads-key-A-0123456789abcdef0123'
const KEY_B = 'verify-threads-key-B-0123456789abcdef0123'
const keys = [Buffer.from(KEY_A), Buffer.from(KEY_B)]
const dir = mkdtempSync(join(tmpdir(), 'audit-verify-threads-'))

const event = (i: number): AuditEvent =>
  ({
    v: 1,
    time: new Date(Date.UTC(2025, 2, 1, 8) + i * 10).toISOString(),
    event: 'access',
    decision: i % 11 === 0 ? 'deny' : 'allow',
    requestId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    client: '10.0.0.2',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0 «é»',
    session: 'AbCdEfGhIjKlMnOp',
    idNat: `8997${String(i % 300).padStart(8, '0')}`,
    route: 'application',
    method: 'GET',
    path: `/dossier/${i}`,
    status: i % 11 === 0 ? 403 : 200,
    durationMs: 1.25,
  }) as AuditEvent

/** The reference: each line's text through ChainVerifier.line, which checks its mac itself. */
function lineByLine(files: string[]): VerifyReport {
  const v = new ChainVerifier(keys)
  for (const file of files) {
    v.beginFile(file)
    const text = readFileSync(file, 'utf8')
    const lines = text.split('\n')
    if (lines[lines.length - 1] === '') lines.pop()
    lines.forEach((l, i) => {
      v.line(file, i + 1, l.endsWith('\r') ? l.slice(0, -1) : l)
    })
    v.endFile(file, text.endsWith('\n') || text === '')
  }
  return v.finish()
}

// ~6 MiB in two files, as logrotate leaves them (several blocks of ~1 MiB each), with a gap record
// in the first and a restart with a new key (a key-change chain-start) in the second.
const first = join(dir, 'audit.log.1')
const second = join(dir, 'audit.log')
{
  const dest = new FileDestination(second, { hmacKey: KEY_A, checkEveryMs: 0 })
  const sink = new QueuedSink(dest, { maxQueuedEvents: 50_000 })
  for (let i = 0; i < 15_000; i++) {
    if (i === 10_000) {
      await sink.flush()
      renameSync(second, first)
      dest.reopen()
    }
    // A gap record as the queue writes one in drop mode.
    if (i === 4_000)
      sink.write({
        v: 1,
        time: event(i).time,
        event: 'gap',
        lost: 7,
        from: event(i - 1).time,
        to: event(i).time,
        reason: 'queue full (drop mode)',
      } as unknown as AuditEvent)
    const w = sink.write(event(i))
    if (w !== undefined) await w
  }
  await sink.close()
  const restarted = new QueuedSink(new FileDestination(second, { hmacKey: KEY_B, checkEveryMs: 0 }))
  for (let i = 15_000; i < 18_000; i++) restarted.write(event(i))
  await restarted.close()
}

t.test('an intact chain: the same report with and without threads, and line by line', async (t) => {
  const reference = lineByLine([first, second])
  const inline = await verifyAuditFiles([first, second], keys, { threads: 0 })
  const threaded = await verifyAuditFiles([first, second], keys, { threads: 2 })
  t.same(inline, reference)
  t.same(threaded, reference)
  t.ok(reference.ok, 'intact')
  t.equal(
    reference.lines,
    18_000 + 1 + reference.chains,
    'every line counted: events, the gap record, the chain starts',
  )
  t.equal(reference.chains, 3, 'open, rotation, restart')
  t.equal(reference.keyChanges.length, 1, 'the key change is listed')
  t.equal(reference.gaps.length, 1, 'the gap record is listed')
  t.equal(reference.lost, 7)
  t.ok(
    reference.head !== undefined && reference.lastTime === event(17_999).time,
    'head and last time from the last line',
  )
})

t.test(
  'every kind of finding, in the middle of blocks and across them: the same report whatever the path',
  async (t) => {
    const lines = readFileSync(first, 'utf8').split('\n')
    t.ok(lines.length > 9000)
    const at = (n: number) => n - 1
    lines[at(120)] = lines[at(120)]!.replace('"status":200', '"status":201') // edited
    lines.splice(at(900), 1) // removed
    const swapped = lines[at(2000)]!
    lines[at(2000)] = lines[at(2001)]!
    lines[at(2001)] = swapped // reordered
    lines.splice(at(3000), 0, 'not an audit line at all') // malformed
    lines.splice(at(3500), 0, '{"log":"app","level":30,"msg":"an operational log line on the same stream"}') // skipped
    lines[at(5000)] = lines[at(5000)]!.replace(/"mac":"[^"]+"/, `"mac":"${'A'.repeat(43)}"`) // forged
    lines[at(6000)] = lines[at(6000)]!.slice(0, 200) // cut short
    lines[at(7000)] = `${lines[at(7000)]!}\r` // CRLF: still intact
    lines[at(8000)] = lines[at(8000)]!.replace(/"kid":"[^"]{8}"/, '"kid":"ZZZZZZZZ"') // unknown key id
    const broken = join(dir, 'broken.log')
    writeFileSync(broken, lines.join('\n').slice(0, -300)) // and the file ends in the middle of a line
    const reference = lineByLine([broken, second])
    t.same(
      await verifyAuditFiles([broken, second], keys, { threads: 0, keepOrder: true }),
      reference,
      'without threads',
    )
    t.same(await verifyAuditFiles([broken, second], keys, { threads: 2, keepOrder: true }), reference, 'with threads')
    const kinds = new Set(reference.findings.map((f) => f.kind))
    for (const kind of ['edited', 'removed', 'reordered', 'malformed', 'truncated', 'unknown-key'] as const)
      t.ok(kinds.has(kind), `a ${kind} finding is among them`)
    t.equal(reference.skipped, 1)
    t.notOk(
      reference.findings.some((f) => f.line === 7000),
      'a CRLF line end is no finding',
    )
  },
)

t.test('query: the same rows with and without threads, and with --verify', async (t) => {
  const run = async (
    threads: number,
    verify: boolean,
    filters: Parameters<typeof queryAuditFiles>[1] = { decision: 'deny' },
  ) => {
    let out = ''
    const sink = new Writable({
      write(c: Buffer, _e, done) {
        out += c.toString()
        done()
      },
    })
    const r = await queryAuditFiles([first, second], filters, 'table', sink, {
      threads,
      ...(verify && { verifier: new ChainVerifier(keys) }),
    })
    return { out, matched: r.matched, scanned: r.scanned, verify: r.verify }
  }
  const inline = await run(0, false)
  t.equal(inline.matched, Math.ceil(18_000 / 11), 'every refusal')
  t.same(await run(2, false), inline)
  const verified = await run(2, true)
  t.equal(verified.out, inline.out)
  t.same(verified.verify, lineByLine([first, second]))
  // A field filter: only the lines around the field's bytes are read.
  const idNat = `8997${String(5).padStart(8, '0')}`
  const byIdNat = await run(0, false, { idNat })
  t.equal(byIdNat.matched, 60, 'every event of that practitioner (1 in 300)')
  t.equal(byIdNat.scanned, inline.scanned, 'every line counted as scanned')
  t.equal(byIdNat.out.split('\n').filter((l) => l.includes(idNat)).length, 60)
  t.same(await run(2, false, { idNat }), byIdNat, 'the same with threads')
  t.same((await run(2, true, { idNat })).out, byIdNat.out, 'and with --verify')
})
