// node --import tsx bench/audit-query.ts [--lines 1000000] [--keep | --file F]
// Generates a chained audit file of N lines in a temp dir (through the real file sink), then times
// `psc-gateway audit query` and `audit verify` on it: the compiled CLI (dist/, built first) in its
// own process, as a security team runs it, the rows to /dev/null; with its CPU time and peak RSS
// (memory must stay flat whatever N).
// Targets (issue 13): query and verify over 1,000,000 lines in under 5 s each, RSS flat.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { AuditEvent } from '../src/audit/events.js'
import { FileDestination } from '../src/audit/fd-destination.js'
import { QueuedSink } from '../src/audit/queued-sink.js'
import { execFileSync, spawn } from 'node:child_process'
import { ROOT } from './harness.js'

process.stdout.write('building dist/ ...\n')
execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' })

// --file F: time an existing file made by an earlier run with --keep (same key), not a new one.
const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '1000000' },
    file: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
})
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
      v: 1,
      time: new Date(start + i * 50).toISOString(),
      event: 'access',
      decision: i % 13 === 0 ? 'deny' : 'allow',
      ...(i % 13 === 0 && { reason: 'profession 10 not in [21]' }),
      requestId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      client: '10.1.2.3',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0',
      session: 'AbCdEfGhIjKlMnOp',
      idNat: people[i % people.length]!,
      profession: '10',
      route,
      method: 'GET',
      path: `/${route}/dossier/${i % 10_000}`,
      status: i % 13 === 0 ? 403 : 200,
      durationMs: 2.31,
    }
    const wait = sink.write(e)
    if (wait !== undefined) await wait
  }
  await sink.close()
  process.stdout.write(`${((performance.now() - t0) / 1000).toFixed(1)} s, ${mb(statSync(file).size)}\n`)
}
const size = statSync(file).size

/** CPU seconds (user + system) of this process's waited-for children, from /proc. */
function childrenCpu(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[13]) + Number(fields[14])) / 100 // cutime, cstime, in clock ticks
}

/**
 * Runs `psc-gateway audit ARGS` (dist/cli.js, as installed) in its own process, the rows to
 * /dev/null: wall time, CPU time of all its threads (on a shared machine the wall clock says how
 * loaded it was, the CPU time how much work the code did) and its peak RSS, sampled every 50 ms.
 */
async function timed(label: string, args: string[]): Promise<number> {
  const devnull = openSync('/dev/null', 'w')
  const cpu0 = childrenCpu()
  t0 = performance.now()
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'audit', ...args], {
    stdio: ['ignore', args[0] === 'verify' ? 'pipe' : devnull, 'pipe'],
    env: { ...process.env, AUDIT_HMAC_KEY: KEY },
  })
  let peak = 0
  const sampler = setInterval(() => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))
      if (m !== null) peak = Math.max(peak, Number(m[1]) * 1024)
    } catch {
      /* it has just ended */
    }
  }, 50)
  let said = ''
  child.stdout?.on('data', (d: Buffer) => {
    said += d.toString()
  })
  child.stderr!.on('data', (d: Buffer) => {
    said += d.toString()
  })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  clearInterval(sampler)
  closeSync(devnull)
  const s = (performance.now() - t0) / 1000
  const cpu = childrenCpu() - cpu0
  const what = said.split('\n').find((l) => /^(OK|BROKEN)|event\(s\) of/.test(l)) ?? said.trim().split('\n')[0]
  process.stdout.write(
    `${label.padEnd(44)} ${s.toFixed(2)} s (CPU ${cpu.toFixed(2)} s)   peak RSS ${mb(peak)}   exit ${code}: ${what}\n`,
  )
  return s
}

process.stdout.write(
  `\nfile: ${values.file === undefined ? `${N} lines, ` : ''}${mb(size)}; node ${process.version}, ${availableParallelism()} cores, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}\n`,
)
const table = await timed('query (no filter, table format)', ['query', file])
await timed('query --idnat X --decision deny (table)', ['query', file, '--idnat', people[13]!, '--decision', 'deny'])
await timed('query --route pharmacie --format csv', ['query', file, '--route', 'pharmacie', '--format', 'csv'])
await timed('query --since/--until (json)', [
  'query',
  file,
  '--since',
  new Date(start + 3_600_000).toISOString(),
  '--until',
  new Date(start + 7_200_000).toISOString(),
  '--format',
  'json',
])
await timed('query --status 4xx --path-prefix /pharmacie (json)', [
  'query',
  file,
  '--status',
  '4xx',
  '--path-prefix',
  '/pharmacie',
  '--format',
  'json',
])
const verify = await timed('verify (HMAC of every line)', ['verify', file])
const queryVerify = await timed('query --idnat X --verify (one pass)', [
  'query',
  file,
  '--idnat',
  people[13]!,
  '--verify',
])
const verdict = (label: string, s: number) =>
  process.stdout.write(`${label.padEnd(44)} ${s.toFixed(2)} s   target < 5 s   ${s < 5 ? 'PASS' : 'MISSED'}\n`)
process.stdout.write(
  `\n${values.file === undefined ? `${N} lines` : file} (load average now ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}):\n`,
)
verdict('query, no filter', table)
verdict('verify', verify)
verdict('query --verify', queryVerify)
if (dir !== undefined && !values.keep) rmSync(dir, { recursive: true, force: true })
else if (dir !== undefined) process.stdout.write(`kept ${file} (time it again with --file ${file})\n`)
