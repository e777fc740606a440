// node --expose-gc --import tsx bench/audit-query.ts [--lines 1000000] [--keep | --file F]
// Generates a chained audit file of N lines in a temp dir (through the real file sink), then times
// `audit query` on it (the real CLI code path, output to /dev/null) and `audit verify`, and reports
// RSS before/after and its peak, sampled every 50 ms: memory must stay flat whatever N.
// The commands run compiled (dist/, built first), as `psc-gateway audit` runs: under tsx each
// worker thread of verify/query would also compile the sources again.
// Targets (issue 13): query and verify over 1,000,000 lines in under 5 s each, RSS flat.
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import type { AuditEvent } from '../src/audit/events.js'
import { FileDestination } from '../src/audit/fd-destination.js'
import { QueuedSink } from '../src/audit/queued-sink.js'
import { execFileSync } from 'node:child_process'
import { ROOT } from './harness.js'

process.stdout.write('building dist/ ...\n')
execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' })
const compiled = (name: string) => pathToFileURL(join(ROOT, 'dist', 'audit', `${name}.js`)).href
const { queryAuditFiles } = await import(compiled('query')) as typeof import('../src/audit/query.js')
const { ChainVerifier, verifyAuditFiles } = await import(compiled('verify')) as typeof import('../src/audit/verify.js')

// --file F: time an existing file made by an earlier run with --keep (same key), not a new one.
const { values } = parseArgs({ options: { lines: { type: 'string', default: '1000000' }, file: { type: 'string' }, keep: { type: 'boolean', default: false } } })
const N = Number(values.lines)
const KEY = 'bench-audit-hmac-key-0123456789abcdef0123'
const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`

const dir = values.file === undefined ? mkdtempSync(join(tmpdir(), 'audit-query-bench-')) : undefined
const file = values.file ?? join(dir!, 'audit.log')
const routes = ['application', 'pharmacie', 'medecins-civils', 'admin', 'public']
const people = Array.from({ length: 500 }, (_, i) => `8997${String(i).padStart(8, '0')}`)

const start = Date.UTC(2025, 2, 1)
let t0 = performance.now()
if (values.file === undefined) {
  process.stdout.write(`generating ${N} lines in ${file} ... `)
  const sink = new QueuedSink(new FileDestination(file, { hmacKey: KEY }), { maxQueuedEvents: 20_000 })
  for (let i = 0; i < N - 1; i++) {
    const route = routes[i % routes.length]!
    const e: AuditEvent = {
      v: 1, time: new Date(start + i * 50).toISOString(), event: 'access', decision: i % 13 === 0 ? 'deny' : 'allow',
      ...(i % 13 === 0 && { reason: 'profession 10 not in [21]' }),
      requestId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, client: '10.1.2.3', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0',
      session: 'AbCdEfGhIjKlMnOp', idNat: people[i % people.length]!, profession: '10', route, method: 'GET',
      path: `/${route}/dossier/${i % 10_000}`, status: i % 13 === 0 ? 403 : 200, durationMs: 2.31
    }
    const wait = sink.write(e)
    if (wait !== undefined) await wait
  }
  await sink.close()
  process.stdout.write(`${((performance.now() - t0) / 1000).toFixed(1)} s, ${mb(statSync(file).size)}\n`)
}
const size = statSync(file).size

let peak = 0
const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 50)
const devnull = createWriteStream('/dev/null')

async function timed (label: string, fn: () => Promise<string>): Promise<number> {
  global.gc?.()
  const before = process.memoryUsage().rss
  peak = before
  // CPU time of the whole process (all threads) beside the wall-clock time: on a shared machine
  // the wall clock says how loaded it was, the CPU time how much work the code did.
  const cpu0 = process.cpuUsage()
  t0 = performance.now()
  const what = await fn()
  const s = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const after = process.memoryUsage().rss
  process.stdout.write(`${label.padEnd(44)} ${s.toFixed(2)} s (CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s)   RSS before ${mb(before)}, after ${mb(after)}, peak ${mb(peak)}   ${what}\n`)
  return s
}

process.stdout.write(`\nfile: ${values.file === undefined ? `${N} lines, ` : ''}${mb(size)}; node ${process.version}, ${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`)
const table = await timed('query (no filter, table format)', async () => {
  const r = await queryAuditFiles([file], {}, 'table', devnull)
  return `${r.matched} rows`
})
await timed('query --idnat X --decision deny (table)', async () => {
  const r = await queryAuditFiles([file], { idNat: people[13]!, decision: 'deny' }, 'table', devnull)
  return `${r.matched} rows`
})
await timed('query --route pharmacie --format csv', async () => {
  const r = await queryAuditFiles([file], { route: 'pharmacie' }, 'csv', devnull)
  return `${r.matched} rows`
})
await timed('query --since/--until (json)', async () => {
  const r = await queryAuditFiles([file], { since: new Date(start + 3_600_000).toISOString(), until: new Date(start + 7_200_000).toISOString() }, 'json', devnull)
  return `${r.matched} rows`
})
await timed('query --status 4xx --path-prefix /pharmacie (json)', async () => {
  const r = await queryAuditFiles([file], { status: '4xx', pathPrefix: '/pharmacie' }, 'json', devnull)
  return `${r.matched} rows`
})
const verify = await timed('verify (HMAC of every line)', async () => {
  const r = await verifyAuditFiles([file], Buffer.from(KEY))
  return r.ok ? `intact, ${r.lines} lines` : `BROKEN: ${r.findings.length} findings`
})
const queryVerify = await timed('query --idnat X --verify (one pass)', async () => {
  const r = await queryAuditFiles([file], { idNat: people[13]! }, 'table', devnull, { verifier: new ChainVerifier([Buffer.from(KEY)]) })
  return `${r.matched} rows, ${r.verify?.ok === true ? 'intact' : 'BROKEN'}`
})
clearInterval(sampler)
const verdict = (label: string, s: number) => process.stdout.write(`${label.padEnd(44)} ${s.toFixed(2)} s   target < 5 s   ${s < 5 ? 'PASS' : 'MISSED'}\n`)
process.stdout.write(`\n${values.file === undefined ? `${N} lines` : file} (load average now ${loadavg().map((l) => l.toFixed(2)).join(' ')}):\n`)
verdict('query, no filter', table)
verdict('verify', verify)
verdict('query --verify', queryVerify)
if (dir !== undefined && !values.keep) rmSync(dir, { recursive: true, force: true })
else if (dir !== undefined) process.stdout.write(`kept ${file} (time it again with --file ${file})\n`)
