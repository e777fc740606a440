// verify and query over rotated files as logrotate leaves them: any order (put in chain order, or
// refused with a reason), gzip-compressed files read as they are, --expect-head catching lines cut
// from the end or a file replaced whole, query's new filters and --verify. Before: wrong order
// accepted, .gz reported malformed (query skipped them), truncation and replacement "intact".
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import type { AuditEvent } from '../../src/audit/events.js'
import { FileDestination } from '../../src/audit/fd-destination.js'
import { orderAuditFiles } from '../../src/audit/tools/file-order.js'
import { queryAuditFiles } from '../../src/audit/tools/query.js'
import { QueuedSink } from '../../src/audit/queued-sink.js'
import { ChainVerifier, verifyAuditFiles } from '../../src/audit/tools/verify.js'
import { TYPESCRIPT_NODE_ARGS } from '../helpers/typescript-node.js'

const KEY = 'verify-files-test-key-0123456789abcdef012'
const key = Buffer.from(KEY)
const ROOT = join(import.meta.dirname, '..', '..')

let clock = Date.UTC(2025, 2, 1, 8)
const event = (i: number, over: Partial<Record<string, unknown>> = {}): AuditEvent =>
  ({
    v: 1,
    time: new Date(clock++).toISOString(),
    event: 'access',
    decision: 'allow',
    requestId: `r${i}`,
    client: i % 2 === 0 ? '10.0.0.2' : '10.0.0.3',
    session: i % 3 === 0 ? 'AAAAAAAAAAAAAAAA' : 'BBBBBBBBBBBBBBBB',
    method: 'GET',
    path: i % 4 === 0 ? `/dossier/${i}` : `/dossiers/${i}`,
    status: i % 5 === 0 ? 403 : 200,
    durationMs: 1,
    ...over,
  }) as AuditEvent

/** Writes 3 rotations as logrotate would: audit.log.2.gz (oldest), audit.log.1, audit.log. */
async function rotatedSet(): Promise<{ dir: string; files: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'audit-verify-files-'))
  const file = join(dir, 'audit.log')
  const dest = new FileDestination(file, { hmacKey: KEY, checkEveryMs: 0 })
  const sink = new QueuedSink(dest)
  let i = 0
  for (let part = 0; part < 3; part++) {
    for (let n = 0; n < 20; n++) sink.write(event(i++))
    await sink.flush()
    if (part === 0) {
      renameSync(file, `${file}.2`)
      dest.reopen()
    }
    if (part === 1) {
      renameSync(file, `${file}.1`)
      dest.reopen()
    }
  }
  await sink.close()
  writeFileSync(`${file}.2.gz`, gzipSync(readFileSync(`${file}.2`)))
  return { dir, files: [`${file}.2.gz`, `${file}.1`, file] }
}

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [...TYPESCRIPT_NODE_ARGS, join(ROOT, 'src', 'cli.ts'), 'audit', ...args], {
    cwd: ROOT,
    env: { ...process.env, AUDIT_HMAC_KEY: KEY, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

t.test('files in any order are checked in chain order; .gz read transparently', async (t) => {
  const { files } = await rotatedSet()
  const [gz, one, now] = files as [string, string, string]
  t.same(await orderAuditFiles([now, gz, one]), [gz, one, now], 'put in chain order by their links')
  const r = await verifyAuditFiles([now, one, gz], key)
  t.same(r.findings, [], 'intact, whatever the order given')
  t.same(r.files, [gz, one, now])
  t.equal(r.lines, 63, '60 events and 3 chain-starts, the compressed file included')
  // Forced into the wrong order, the chain shows the break.
  const forced = await verifyAuditFiles([now, one, gz], key, { keepOrder: true })
  t.notOk(forced.ok, '--keep-order in the wrong order is a broken chain')
})

t.test('files that do not link and overlap in time are refused, naming them', async (t) => {
  // Two gateways writing over the same period (real times, as their chain-starts have).
  const dir = mkdtempSync(join(tmpdir(), 'audit-overlap-'))
  const a = join(dir, 'a.log')
  const b = join(dir, 'b.log')
  const sinks = [
    new QueuedSink(new FileDestination(a, { hmacKey: KEY })),
    new QueuedSink(new FileDestination(b, { hmacKey: KEY })),
  ]
  for (let i = 0; i < 10; i++) {
    for (const s of sinks) s.write(event(i, { time: new Date().toISOString() }))
    await new Promise((r) => setTimeout(r, 3)) // time passing: distinct times in the two files, to interleave
  }
  for (const s of sinks) await s.close()
  const r = cli(['verify', a, b])
  t.equal(r.code, 2, 'refused as a usage error')
  t.match(
    r.err,
    /cannot tell the order of .*\.log and .*\.log: neither continues the other's chain and their times overlap/,
  )
})

t.test('--expect-head: lines cut from the end, or a file replaced by another valid chain, are found', async (t) => {
  const { files } = await rotatedSet()
  const newest = files[2]!
  const intact = await verifyAuditFiles(files, key)
  const head = `${intact.head!.seq}:${intact.head!.mac}`
  const ok = await verifyAuditFiles(files, key, { expectHead: head })
  t.same(ok.findings, [], 'the head seen earlier is there')
  t.ok(ok.expectedHeadAt)
  // Cut the last 3 lines: a valid chain still, but the head is gone.
  const lines = readFileSync(newest, 'utf8').split('\n').filter(Boolean)
  writeFileSync(newest, `${lines.slice(0, -3).join('\n')}\n`)
  t.ok((await verifyAuditFiles(files, key)).ok, 'without the head, a cut at the end is invisible')
  const cut = await verifyAuditFiles(files, key, { expectHead: head })
  t.match(cut.findings, [
    {
      kind: 'truncated',
      message:
        /the expected chain head .* is not in these files: lines were cut from the end, or the files were replaced/,
    },
  ])
  // Replaced by another valid chain of the same key.
  const other = await rotatedSet()
  const swapped = await verifyAuditFiles([other.files[2]!], key, { expectHead: head })
  t.notOk(swapped.ok, 'another chain is not the one whose head was seen')
  const viaCli = cli(['verify', ...files, '--expect-head', head])
  t.equal(viaCli.code, 1)
  t.match(viaCli.out, /truncated: the expected chain head/)
  t.equal(cli(['verify', ...files, '--expect-head', 'nonsense']).code, 2, 'a malformed head is a usage error')
})

async function query(files: string[], filters: Parameters<typeof queryAuditFiles>[1], verifier?: ChainVerifier) {
  const chunks: string[] = []
  const out = new Writable({
    write(c: Buffer, _e, done) {
      chunks.push(c.toString())
      done()
    },
  })
  const r = await queryAuditFiles(files, filters, 'json', out, { verifier })
  return {
    ...r,
    rows: chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>),
  }
}

t.test(
  'query: client, session, path prefix (whole segments), status (exact or class), over .gz too; --verify',
  async (t) => {
    const { files } = await rotatedSet()
    const all = (await query(files, {})).rows
    t.equal(all.length, 60, 'every event, the compressed file included (it was skipped before)')
    const byClient = await query(files, { client: '10.0.0.3' })
    t.ok(byClient.rows.length === 30 && byClient.rows.every((r) => r.client === '10.0.0.3'))
    const bySession = await query(files, { session: 'AAAAAAAAAAAAAAAA' })
    t.ok(bySession.rows.length === 20 && bySession.rows.every((r) => r.session === 'AAAAAAAAAAAAAAAA'))
    const byPrefix = await query(files, { pathPrefix: '/dossier' })
    t.equal(byPrefix.rows.length, 15, '/dossier matches /dossier/12, not /dossiers/13')
    t.ok(byPrefix.rows.every((r) => String(r.path).startsWith('/dossier/')))
    t.equal((await query(files, { status: '403' })).rows.length, 12)
    t.equal((await query(files, { status: '4xx', client: '10.0.0.2' })).rows.length, 6, 'filters ANDed')
    const verified = await query(files, { status: '403' }, new ChainVerifier([key]))
    t.ok(verified.verify?.ok, 'the chain checked on the same pass')
    // An edited line: query --verify says so (exit 1), and still lists the rows.
    const lines = readFileSync(files[1]!, 'utf8').split('\n')
    lines[4] = lines[4]!.replace('"status":200', '"status":201')
    writeFileSync(files[1]!, lines.join('\n'))
    const r = cli(['query', ...files, '--status', '4xx', '--verify', '--format', 'json'])
    t.equal(r.code, 1)
    t.match(r.err, /BROKEN: the chain breaks first at .*audit\.log\.1:5 \(edited\)/)
    t.equal(r.out.split('\n').filter(Boolean).length, 12)
    t.equal(cli(['query', ...files, '--status', '4x']).code, 2, 'a bad status is a usage error')
  },
)
