// Shared by the bench scripts: child processes that print `READY {json}` and die with their parent,
// and autocannon runs with sub-millisecond latency percentiles.
import autocannon, { type AutocannonResult } from 'autocannon'
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { GATEWAY_NODE_FLAGS } from '../src/ops/runtime-tuning.js'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * Node's command-line flags for a gateway process, as the image's entrypoint gives them;
 * BENCH_NODE_FLAGS=none leaves them out, to measure what they change.
 */
export function gatewayNodeFlags(): string[] {
  return process.env.BENCH_NODE_FLAGS === 'none' ? [] : [...GATEWAY_NODE_FLAGS]
}

export interface LoadSettings {
  connections: number
  duration: number
  warmup: number
}

// ---------------------------------------------------------------- child processes

/** Compiles src/ into dist/: the gateway under test runs compiled, as in production. */
export function buildDist(): void {
  process.stdout.write('building dist/ ...\n')
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json')],
    { stdio: 'inherit' },
  )
}

export interface Child {
  name: string
  proc: ChildProcessWithoutNullStreams
  stderr: string[]
}

const children: Child[] = []

export function killAll(signal: NodeJS.Signals): void {
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill(signal)
}
// Whatever happens, no child outlives this process.
process.on('exit', () => killAll('SIGKILL'))
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    process.stderr.write(`\nbench: ${sig}, stopping children\n`)
    killAll('SIGKILL')
    process.exit(130)
  })
}

/** Starts `node --import tsx bench/<file> ...args`; resolves with the JSON of its `READY {...}` line. */
export function startChild<T>(
  name: string,
  file: string,
  childArgs: string[],
  nodeArgs: string[] = [],
  timeoutMs = 30_000,
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: Child; info: T }> {
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(ROOT, 'bench', file), ...childArgs], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production', ...env },
  })
  const child: Child = { name, proc, stderr: [] }
  children.push(child)
  proc.stderr.setEncoding('utf8')
  proc.stderr.on('data', (s: string) => {
    child.stderr.push(...s.split('\n').filter((l) => l.trim()))
    if (child.stderr.length > 200) child.stderr.splice(0, child.stderr.length - 200)
  })
  return new Promise((resolve, reject) => {
    let buffer = ''
    const timer = setTimeout(
      () => reject(new Error(`${name} not ready after ${timeoutMs} ms:\n${child.stderr.slice(-20).join('\n')}`)),
      timeoutMs,
    )
    proc.stdout.setEncoding('utf8')
    proc.stdout.on('data', (s: string) => {
      buffer += s
      const m = /^READY (.*)$/m.exec(buffer)
      if (m) {
        clearTimeout(timer)
        resolve({ child, info: JSON.parse(m[1] ?? '{}') as T })
      }
    })
    proc.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(
        new Error(
          `${name} exited before ready (code ${code}, signal ${signal}):\n${child.stderr.slice(-20).join('\n')}`,
        ),
      )
    })
  })
}

/** Closes stdin (the children stop on it), then SIGKILLs whoever is still there after 3 s. */
export async function stopChildren(which: readonly Child[] = children): Promise<void> {
  await Promise.all(
    which.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.proc.exitCode !== null || c.proc.signalCode !== null) return resolve()
          const timer = setTimeout(() => {
            c.proc.kill('SIGKILL')
            resolve()
          }, 3000)
          c.proc.once('exit', () => {
            clearTimeout(timer)
            resolve()
          })
          c.proc.stdin.end()
        }),
    ),
  )
}

// ---------------------------------------------------------------- measuring

export interface Target {
  label: string
  url: string
  headers?: Record<string, string>
}

export interface Measured {
  label: string
  reqPerSec: number
  p50: number
  p99: number
  ok: number
  non2xx: number
  errors: number
  timeouts: number
  statusCodes: string
  /** CPU time (user + system) per answered request during the measured run, µs, per process watched */
  cpuPerRequestUs: Record<string, number>
}

/** A process whose CPU time is sampled around each measured run. */
export interface Watched {
  name: string
  pid: number
}

/** utime + stime of a process (or of one of its threads), in µs, from /proc (Linux); NaN elsewhere. */
function cpuTimeUs(pid: number, tid?: number): number {
  try {
    const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8')
    // Fields after the command name (which may contain spaces), counted from field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    return (ticks * 1e6) / CLOCK_TICKS
  } catch {
    return Number.NaN
  }
}
// USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK).
const CLOCK_TICKS = 100

function cpuSnapshot(watched: Watched[]): Record<string, number> {
  const own = process.cpuUsage()
  const snap: Record<string, number> = { autocannon: own.user + own.system }
  for (const w of watched) {
    snap[w.name] = cpuTimeUs(w.pid)
    // The main thread alone (its tid is the pid): the event loop, which is what saturates first.
    snap[`${w.name} main thread`] = cpuTimeUs(w.pid, w.pid)
  }
  return snap
}

export function run(
  load: LoadSettings,
  url: string,
  duration: number,
  headers: Record<string, string> | undefined,
  onLatency?: (ms: number) => void,
): Promise<AutocannonResult> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections: load.connections,
        duration,
        headers,
        timeout: 10,
        renderProgressBar: false,
        renderResultsTable: false,
        renderLatencyTable: false,
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    )
    if (onLatency) {
      instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
        if (statusCode >= 200 && statusCode < 300) onLatency(responseTime)
      })
    }
  })
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i] ?? Number.NaN
}

export async function measure(load: LoadSettings, target: Target, watched: Watched[] = []): Promise<Measured> {
  process.stdout.write(`  ${target.label.padEnd(20)} warm-up ${load.warmup} s, measure ${load.duration} s ... `)
  if (load.warmup > 0) await run(load, target.url, load.warmup, target.headers)
  const latencies: number[] = []
  const before = cpuSnapshot(watched)
  const result = await run(load, target.url, load.duration, target.headers, (ms) => latencies.push(ms))
  const after = cpuSnapshot(watched)
  const answered = result.requests.total || 1
  const cpuPerRequestUs: Record<string, number> = {}
  for (const name in after)
    cpuPerRequestUs[name] = ((after[name] ?? Number.NaN) - (before[name] ?? Number.NaN)) / answered
  const sorted = Float64Array.from(latencies).sort()
  const m: Measured = {
    label: target.label,
    reqPerSec: result.requests.average,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.entries(result.statusCodeStats)
      .map(([code, { count }]) => `${code}×${count}`)
      .join(' '),
    cpuPerRequestUs,
  }
  process.stdout.write(`${Math.round(m.reqPerSec)} req/s\n`)
  await new Promise((r) => setTimeout(r, 500))
  return m
}

/**
 * The targets measured in turns: each gets its warm-up, then `slices` runs of duration / slices
 * seconds each, the targets taking turns (order reversed every other slice), so that a change of
 * the machine's speed during the round (other work on a shared VM) falls on all of them alike.
 * Per target: req/s = requests / seconds measured, CPU per request = CPU / requests over its
 * slices, percentiles over all its responses.
 */
export async function measureInTurns(
  load: LoadSettings,
  targets: Target[],
  watched: Watched[],
  slices: number,
): Promise<Measured[]> {
  const sliceSeconds = load.duration / slices
  process.stdout.write(`  warm-up ${load.warmup} s each, then ${slices} turns of ${sliceSeconds} s per target ... `)
  for (const t of targets) if (load.warmup > 0) await run(load, t.url, load.warmup, t.headers)
  const acc = targets.map(() => ({
    latencies: [] as number[],
    requests: 0,
    ok: 0,
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    codes: new Map<string, number>(),
    cpu: new Map<string, number>(),
  }))
  for (let s = 0; s < slices; s++) {
    const order = s % 2 === 0 ? targets.map((_, i) => i) : targets.map((_, i) => targets.length - 1 - i)
    for (const i of order) {
      const t = targets[i]!
      const a = acc[i]!
      const before = cpuSnapshot(watched)
      const result = await run(load, t.url, sliceSeconds, t.headers, (ms) => a.latencies.push(ms))
      const after = cpuSnapshot(watched)
      for (const name in after)
        a.cpu.set(name, (a.cpu.get(name) ?? 0) + ((after[name] ?? Number.NaN) - (before[name] ?? Number.NaN)))
      a.requests += result.requests.total
      a.ok += result['2xx']
      a.non2xx += result.non2xx
      a.errors += result.errors
      a.timeouts += result.timeouts
      for (const [code, { count }] of Object.entries(result.statusCodeStats))
        a.codes.set(code, (a.codes.get(code) ?? 0) + count)
    }
  }
  const measured = targets.map((t, i): Measured => {
    const a = acc[i]!
    const sorted = Float64Array.from(a.latencies).sort()
    const answered = a.requests || 1
    return {
      label: t.label,
      reqPerSec: a.requests / load.duration,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      ok: a.ok,
      non2xx: a.non2xx,
      errors: a.errors,
      timeouts: a.timeouts,
      statusCodes: [...a.codes].map(([code, count]) => `${code}×${count}`).join(' '),
      cpuPerRequestUs: Object.fromEntries([...a.cpu].map(([name, us]) => [name, us / answered])),
    }
  })
  process.stdout.write(`${measured.map((m) => `${m.label} ${Math.round(m.reqPerSec)}`).join(', ')} req/s\n`)
  return measured
}
