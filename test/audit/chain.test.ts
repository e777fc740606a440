// The hash chain of audit files, end to end through the real file destination and queue: an intact
// file verifies; an edited, removed, swapped, forged or truncated line is found at its line number.
import t from 'tap'
import { appendFileSync, existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileDestination } from '../../src/audit/fd-destination.js'
import { QueuedSink } from '../../src/audit/queued-sink.js'
import { createAuditOutput } from '../../src/audit/sinks.js'
import { verifyAuditFiles } from '../../src/audit/tools/verify.js'
import type { VerifyReport } from '../../src/audit/tools/verify-report.js'
import type { AuditEvent } from '../../src/audit/events.js'
import { until } from '../helpers/until.js'

const KEY = 'audit-chain-test-key-0123456789abcdef-XYZ'
const key = Buffer.from(KEY)

function accessEvent(i: number): AuditEvent {
  return {
    v: 1,
    time: new Date(Date.UTC(2025, 2, 1, 8, 0, 0, i)).toISOString(),
    event: 'access',
    decision: i % 7 === 0 ? 'deny' : 'allow',
    requestId: `req-${i}`,
    client: '10.0.0.1',
    method: 'GET',
    path: `/dossier/${i}`,
    status: 200,
    durationMs: 1.5,
    route: 'application',
    idNat: '899700218896',
  }
}

async function writeFile(file: string, n: number, from = 0): Promise<void> {
  const sink = new QueuedSink(new FileDestination(file, { hmacKey: KEY }))
  for (let i = from; i < from + n; i++) sink.write(accessEvent(i))
  await sink.close()
}

function lines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').slice(0, -1)
}

function rewrite(file: string, l: string[]): void {
  writeFileSync(file, l.map((x) => `${x}\n`).join(''))
}

const only = (r: VerifyReport) => r.findings.map((f) => `${f.line}:${f.kind}`)

const dir = mkdtempSync(join(tmpdir(), 'audit-chain-'))

t.test('an intact file verifies; every line carries seq, prev and mac; line 1 is a signed chain-start', async (t) => {
  const file = join(dir, 'intact.log')
  await writeFile(file, 50)
  const l = lines(file)
  t.equal(l.length, 51)
  const start = JSON.parse(l[0]!) as Record<string, unknown>
  t.match(start, { log: 'audit', seq: 0, event: 'chain-start', file, reason: 'open', previous: null, prev: '' })
  t.match(JSON.parse(l[1]!), { log: 'audit', seq: 1, event: 'access', v: 1, prev: start.mac })
  const r = await verifyAuditFiles([file], key)
  t.ok(r.ok, JSON.stringify(r.findings))
  t.equal(r.lines, 51)
  t.equal(r.chains, 1)
})

t.test('a wrong key fails on the first line', async (t) => {
  const file = join(dir, 'wrongkey.log')
  await writeFile(file, 3)
  const r = await verifyAuditFiles([file], Buffer.from('another-key-another-key-another-key'))
  t.notOk(r.ok)
  // Each line names its key's id: a wrong key is told apart from an edit.
  t.same(r.findings[0], { file, line: 1, kind: 'unknown-key', message: r.findings[0]!.message })
  t.match(r.findings[0]!.message, /signed with key id [A-Za-z0-9_-]{8}, which none of the given keys has/)
})

t.test('an edited line is found on that line', async (t) => {
  const file = join(dir, 'edited.log')
  await writeFile(file, 20)
  const l = lines(file)
  l[9] = l[9]!.replace('"decision":"allow"', '"decision":"deny"').replace('"status":200', '"status":403')
  rewrite(file, l)
  const r = await verifyAuditFiles([file], key)
  t.same(only(r), ['10:edited'])
})

t.test('a deleted line is found at the line that now follows the gap', async (t) => {
  const file = join(dir, 'deleted.log')
  await writeFile(file, 20)
  const l = lines(file)
  l.splice(7, 1) // line 8 (seq 7) removed
  rewrite(file, l)
  const r = await verifyAuditFiles([file], key)
  t.same(only(r), ['8:removed'])
  t.match(r.findings[0]!.message, /1 line\(s\) removed .*seq 7 missing/)
})

t.test('several deleted lines are counted', async (t) => {
  const file = join(dir, 'deleted3.log')
  await writeFile(file, 20)
  const l = lines(file)
  l.splice(4, 3)
  rewrite(file, l)
  const r = await verifyAuditFiles([file], key)
  t.same(only(r), ['5:removed'])
  t.match(r.findings[0]!.message, /3 line\(s\) removed .*seq 4\.\.6/)
})

t.test('a swapped pair is reported as reordered, not as a removal', async (t) => {
  const file = join(dir, 'swapped.log')
  await writeFile(file, 20)
  const l = lines(file)
  ;[l[11], l[12]] = [l[12]!, l[11]!] // lines 12 and 13
  rewrite(file, l)
  const r = await verifyAuditFiles([file], key)
  t.same(only(r), ['13:reordered'])
  t.match(r.findings[0]!.message, /seq 11 comes after seq 12: it belongs before .*:12/)
})

t.test('an appended forged line is found on its line', async (t) => {
  const file = join(dir, 'forged.log')
  await writeFile(file, 10)
  const l = lines(file)
  const last = JSON.parse(l.at(-1)!) as { seq: number; mac: string }
  // A well-formed line with the right seq and prev, but a mac the forger could not compute.
  appendFileSync(
    file,
    `{"log":"audit","seq":${last.seq + 1},"v":1,"time":"2025-03-01T09:00:00.000Z","event":"access","decision":"allow","prev":"${last.mac}","mac":"${'A'.repeat(43)}"}\n`,
  )
  const r = await verifyAuditFiles([file], key)
  t.same(only(r), ['12:edited'])
})

t.test('a duplicated line (replayed) is reported as reordered', async (t) => {
  const file = join(dir, 'dup.log')
  await writeFile(file, 10)
  const l = lines(file)
  l.splice(5, 0, l[3]!)
  rewrite(file, l)
  const r = await verifyAuditFiles([file], key)
  t.same(only(r), ['6:reordered'])
})

t.test('a file cut in the middle of a line is truncated', async (t) => {
  const file = join(dir, 'truncated.log')
  await writeFile(file, 10)
  const text = readFileSync(file, 'utf8')
  writeFileSync(file, text.slice(0, text.length - 30))
  const r = await verifyAuditFiles([file], key)
  t.same(only(r), ['11:truncated', '11:truncated'])
})

t.test('lines removed at the start of a file (the chain-start gone) are found', async (t) => {
  const file = join(dir, 'head.log')
  await writeFile(file, 10)
  rewrite(file, lines(file).slice(3))
  const r = await verifyAuditFiles([file], key)
  t.same(only(r), ['1:removed'])
})

t.test('a restart continues the chain of the existing file', async (t) => {
  const file = join(dir, 'restart.log')
  await writeFile(file, 5)
  await writeFile(file, 5, 5)
  const l = lines(file)
  const second = JSON.parse(l[6]!) as { event: string; reason: string; previous: { seq: number; mac: string } }
  t.equal(second.event, 'chain-start')
  t.equal(second.reason, 'open', 'the same key: no key change')
  t.same(second.previous, {
    seq: 5,
    mac: (JSON.parse(l[5]!) as { mac: string }).mac,
    kid: (JSON.parse(l[5]!) as { kid: string }).kid,
  })
  t.ok((await verifyAuditFiles([file], key)).ok)
  // The last line before the restart removed: the chain-start says what it should have followed.
  l.splice(5, 1)
  rewrite(file, l)
  t.same(only(await verifyAuditFiles([file], key)), ['6:removed'])
})

t.test('rotation: logrotate moves the file, the sink notices and continues the chain in a new file', async (t) => {
  const file = join(dir, 'rotated.log')
  const dest = new FileDestination(file, { hmacKey: KEY, checkEveryMs: 0 })
  const sink = new QueuedSink(dest)
  for (let i = 0; i < 5; i++) sink.write(accessEvent(i))
  await sink.flush()
  renameSync(file, `${file}.1`)
  for (let i = 5; i < 10; i++) sink.write(accessEvent(i))
  await sink.close()
  const old = lines(`${file}.1`)
  const now = lines(file)
  t.equal(old.length, 6)
  t.equal(now.length, 6)
  t.match(JSON.parse(now[0]!), {
    event: 'chain-start',
    reason: 'reopen',
    previous: { seq: 5, mac: (JSON.parse(old[5]!) as { mac: string }).mac },
  })
  t.ok((await verifyAuditFiles([`${file}.1`, file], key)).ok, 'the two files verify as one chain')
  // Removing the old file's last line is seen from the new file.
  rewrite(`${file}.1`, old.slice(0, -1))
  const r = await verifyAuditFiles([`${file}.1`, file], key)
  t.same(
    r.findings.map((f) => `${f.file === file ? 'new' : 'old'}:${f.line}:${f.kind}`),
    ['new:1:removed'],
  )
})

t.test('reopen (SIGUSR2) writes a chain-start at once into the new file', async (t) => {
  const file = join(dir, 'usr2.log')
  const out = createAuditOutput({
    stdout: false,
    file,
    hmacKey: KEY,
    onBackpressure: 'block',
    includeQuery: false,
    maxQueuedEvents: 100,
  })
  out.write(accessEvent(1))
  await out.flush()
  renameSync(file, `${file}.1`)
  out.reopen()
  await until(
    'the chain-start in the new file',
    async () => existsSync(file) && readFileSync(file, 'utf8').length > 0,
    10_000,
    5,
  )
  await out.flush()
  const now = lines(file)
  t.equal(now.length, 1, 'the new file exists with its chain-start before any event')
  t.match(JSON.parse(now[0]!), { event: 'chain-start', reason: 'reopen' })
  out.write(accessEvent(2))
  await out.close()
  t.ok((await verifyAuditFiles([`${file}.1`, file], key)).ok)
})
