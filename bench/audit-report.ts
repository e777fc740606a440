// node --import tsx bench/audit-report.ts [--lines 1000000] [--keep | --file F]
// Generates a month of chained audit trail (through the real file sink): logins, refusals, CIBA
// pushes, requests day and night from 2,000 practitioners and 5,000 addresses, then times
// `psc-gateway audit report` (HTML, then CSV) on it with the compiled CLI (dist/, built first) in
// its own process: wall time, CPU time and peak RSS (which must stay flat whatever the trail's length).
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { AuditEvent } from '../src/audit/events.js'
import { FileDestination } from '../src/audit/fd-destination.js'
import { QueuedSink } from '../src/audit/queued-sink.js'
import { ROOT } from './harness.js'

process.stdout.write('building dist/ ...\n')
execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' })

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '1000000' },
    file: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
})
const N = Number(values.lines)
const KEY = 'bench-audit-report-key-0123456789abcdef012'
const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`
const dir = values.file === undefined ? mkdtempSync(join(tmpdir(), 'audit-report-bench-')) : undefined
const file = values.file ?? join(dir!, 'audit.log')

const start = Date.UTC(2026, 10, 1)
const month = 30 * 86_400_000
const routes = ['dpi', 'pharmacie', 'laboratoire', 'imagerie', 'admin']
const professions = ['10', '60', '21', '50', '70']
if (values.file === undefined) {
  process.stdout.write(`generating ${N} lines in ${file} ... `)
  const t0 = performance.now()
  const sink = new QueuedSink(new FileDestination(file, { hmacKey: KEY }), { maxQueuedEvents: 20_000 })
  for (let i = 0; i < N - 1; i++) {
    const time = new Date(start + Math.floor((i / N) * month)).toISOString()
    const who = i % 2000
    const facts = {
      v: 1 as const,
      time,
      requestId: `r${i}`,
      client: `10.${(i % 5000) >> 8}.${i % 256}.1`,
      session: `S${String(who).padStart(15, '0')}`,
      idNat: `8100${String(who).padStart(8, '0')}`,
      profession: professions[who % professions.length]!,
      method: 'GET',
      path: '/dossier/1',
      durationMs: 2,
    }
    const kind = i % 50
    const e: AuditEvent =
      kind === 0
        ? { ...facts, event: 'login', outcome: 'succeeded', status: 302 }
        : kind === 1
          ? { ...facts, event: 'login', outcome: 'failed', reason: 'PSC_ERR_LOGIN_DENIED', status: 403 }
          : kind === 2
            ? {
                v: 1,
                time,
                event: 'ciba',
                outcome: i % 3 === 0 ? 'approved' : 'requested',
                idNat: facts.idNat,
                client: facts.client,
              }
            : {
                ...facts,
                event: 'access',
                decision: kind % 9 === 0 ? 'deny' : 'allow',
                route: routes[i % routes.length]!,
                status: kind % 9 === 0 ? 403 : 200,
              }
    const wait = sink.write(e)
    if (wait !== undefined) await wait
  }
  await sink.close()
  process.stdout.write(`${((performance.now() - t0) / 1000).toFixed(1)} s, ${mb(statSync(file).size)}\n`)
}

function childrenCpu(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[13]) + Number(fields[14])) / 100
}

async function timed(label: string, args: string[]): Promise<void> {
  const cpu0 = childrenCpu()
  const t0 = performance.now()
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'audit', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
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
  child.stderr!.on('data', (d: Buffer) => {
    said += d.toString()
  })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  clearInterval(sampler)
  const s = (performance.now() - t0) / 1000
  const what = said.split('\n').find((l) => /^(OK|BROKEN)/.test(l)) ?? said.trim().split('\n')[0]
  process.stdout.write(
    `${label.padEnd(28)} ${s.toFixed(2)} s (CPU ${(childrenCpu() - cpu0).toFixed(2)} s)   peak RSS ${mb(peak)}   exit ${code}: ${what}\n`,
  )
}

process.stdout.write(
  `\nfile: ${mb(statSync(file).size)}; node ${process.version}, ${availableParallelism()} cores, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}\n`,
)
const window = ['--from', '2026-11-01', '--to', '2026-11-30']
await timed('report (HTML)', ['report', file, ...window, '--out', join(tmpdir(), 'audit-report-bench.html')])
await timed('report (CSV)', [
  'report',
  file,
  ...window,
  '--format',
  'csv',
  '--out',
  join(tmpdir(), 'audit-report-bench-csv'),
])
if (dir !== undefined && !values.keep) rmSync(dir, { recursive: true, force: true })
else if (dir !== undefined) process.stdout.write(`kept ${file} (time it again with --file ${file})\n`)
