// audit.retention over real files: a trail written across several rotations with an injected
// clock, then the retention run. The files older than the retention go, oldest first, each removal
// audited with the file's name, line count and last chained line; `audit verify` accepts the chain
// that now starts after them, and still refuses a file missing in the middle or a missing head
// that no removal accounts for. Before: nothing removed old files, and verify passed a chain whose
// head was missing without a word.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { applyAuditRetention } from '../../src/audit/retention.js'
import { parseRetention } from '../../src/audit/retention-period.js'
import { verifyAuditFiles } from '../../src/audit/tools/verify.js'
import { TYPESCRIPT_NODE_ARGS } from '../helpers/typescript-node.js'
import { auditLineProblems } from './schema-lines.js'
import { KEY, sixMonths } from './retention-files.js'

const ROOT = join(import.meta.dirname, '..', '..')

/** Lines of a file (gunzipped), and its last chained line's seq and mac. */
function lastLineOf(path: string): { lines: number; seq: number; mac: string } {
  const text = path.endsWith('.gz')
    ? (spawnSync('gzip', ['-dc', path], { encoding: 'utf8' }).stdout as string)
    : readFileSync(path, 'utf8')
  const lines = text.trimEnd().split('\n')
  const last = JSON.parse(lines[lines.length - 1]!) as { seq: number; mac: string }
  return { lines: lines.length, seq: last.seq, mac: last.mac }
}

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [...TYPESCRIPT_NODE_ARGS, join(ROOT, 'src', 'cli.ts'), 'audit', ...args], {
    cwd: ROOT,
    env: { ...process.env, AUDIT_HMAC_KEY: KEY },
    encoding: 'utf8',
    timeout: 120_000,
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

t.test(
  'files older than the retention are removed, each removal audited, and verify accepts what is left',
  async (t) => {
    const { dir, file, trail, sink, setClock } = await sixMonths()
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    t.same(readdirSync(dir).sort(), [
      'audit.log',
      'audit.log-20250128.gz',
      'audit.log-20250228',
      'audit.log-20250328',
      'audit.log-20250428',
      'audit.log-20250528',
    ])
    const before = {
      'audit.log-20250128.gz': lastLineOf(join(dir, 'audit.log-20250128.gz')),
      'audit.log-20250228': lastLineOf(join(dir, 'audit.log-20250228')),
      'audit.log-20250328': lastLineOf(join(dir, 'audit.log-20250328')),
    }
    // 15 June, 3 months: the cut-off is 15 March; the March file began on 1 March, so it goes.
    const now = Date.UTC(2025, 5, 15, 12)
    setClock(now)
    const removed = await applyAuditRetention({
      file,
      retention: parseRetention('3 months')!,
      now: () => now,
      record: (e) => trail.write(e as never),
    })
    await sink.flush()
    t.same(
      removed.map((p) => p.slice(dir.length + 1)),
      ['audit.log-20250128.gz', 'audit.log-20250228', 'audit.log-20250328'],
      'the three oldest, oldest first',
    )
    t.same(readdirSync(dir).sort(), ['audit.log', 'audit.log-20250428', 'audit.log-20250528'])

    const events = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => e.event === 'audit-retention')
    t.equal(events.length, 3, 'one event per removed file')
    for (const e of events) {
      const b = before[e.file as keyof typeof before]
      t.ok(b, `${e.file} is a removed file`)
      t.equal(e.lines, b.lines, `${e.file}: its line count`)
      t.equal(e.lastSeq, b.seq, `${e.file}: its last seq`)
      t.equal(e.lastMac, b.mac, `${e.file}: its last chain hash`)
      t.equal(e.retention, '3 months')
      t.same(auditLineProblems(e), [], 'valid against docs/audit-events.schema.json')
    }

    // A second run removes nothing more, and writes nothing.
    t.same(
      await applyAuditRetention({
        file,
        retention: parseRetention('3 months')!,
        now: () => now,
        record: () => {
          t.fail('nothing to record')
        },
      }),
      [],
    )

    const files = [join(dir, 'audit.log-20250428'), join(dir, 'audit.log-20250528'), file]
    const report = await verifyAuditFiles(files, Buffer.from(KEY), { threads: 0 })
    t.same(report.findings, [], 'no finding')
    t.ok(report.ok)
    t.equal(
      report.headRemovedByRetention?.removed,
      'audit.log-20250328',
      'the chain starts after the last removed file',
    )
    const out = cli(['verify', '--key-env', 'AUDIT_HMAC_KEY', ...files])
    t.equal(out.code, 0, out.out + out.err)
    t.match(out.out, /Retention: the chain starts after audit\.log-20250328/)

    // Without the file holding the removal events, the missing head is unaccounted for.
    const alone = await verifyAuditFiles(files.slice(0, 2), Buffer.from(KEY), { threads: 0 })
    t.notOk(alone.ok)
    t.match(alone.findings[0], { kind: 'removed', file: files[0], line: 1 })
    t.match(alone.findings[0]!.message, /first files are missing/)

    // Removed by something else (logrotate's rotate N): accepted only when asked, and said.
    const elsewhere = cli(['verify', '--key-env', 'AUDIT_HMAC_KEY', '--head-removed', ...files.slice(0, 2)])
    t.equal(elsewhere.code, 0, elsewhere.out + elsewhere.err)
    t.match(elsewhere.out, /continues from seq \d+ of a file not given, removed outside the gateway \(--head-removed\)/)
    t.equal(cli(['verify', '--key-env', 'AUDIT_HMAC_KEY', ...files.slice(0, 2)]).code, 1)

    // A file missing in the middle is still an error.
    rmSync(join(dir, 'audit.log-20250428'))
    const middle = await verifyAuditFiles([join(dir, 'audit.log-20250528'), file], Buffer.from(KEY), { threads: 0 })
    t.notOk(middle.ok, 'a file missing after the removed ones is not covered by them')
    t.match(middle.findings[0], { kind: 'removed' })
    t.equal(existsSync(file), true)
    await sink.close()
  },
)

t.test('the live file is never removed, and a file that cannot be dated is left alone', async (t) => {
  const { dir, file, trail, sink } = await sixMonths()
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'audit.log-notes'), 'not an audit line\n')
  writeFileSync(join(dir, 'audit.log.lock'), '{"pid":1}\n')
  writeFileSync(join(dir, 'other.log-20250101'), '{"time":"2020-01-01T00:00:00.000Z"}\n')
  const now = Date.UTC(2030, 0, 1)
  const removed = await applyAuditRetention({
    file,
    retention: parseRetention('30 days')!,
    now: () => now,
    record: (e) => trail.write(e as never),
  })
  await sink.close()
  t.equal(removed.length, 5, 'every rotated audit file')
  t.same(readdirSync(dir).sort(), ['audit.log', 'audit.log-notes', 'audit.log.lock', 'other.log-20250101'])
})
