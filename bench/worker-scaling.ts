// The scaling part of `npm run bench`: the gateway run as `psc-gateway serve` with workers 1, 2, ...
// (bench/gateway-serve.ts), each measured on the session route, with req/s and the CPU per request
// of all the gateway's processes (primary and workers). On a machine the load generator shares,
// req/s stops growing when the cores are full; the CPU per request is what carries to a bigger one.
import { existsSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { BrowserLikeClient } from '../test/helpers/browser-like-client.js'
import { loginThroughEmulator } from '../test/helpers/emulator-login.js'
import { type Child, type LoadSettings, measure, ROOT, startChild, stopChildren, type Measured } from './harness.js'
import { descendants } from './process-tree.js'

const MEDECIN = '899700218896'
export const NO_MULTI_PROCESS = 'this build has no multi-process mode'

/**
 * The worker counts of --workers: "1,2", or "none" (no scaling run); by default 1 to the number of
 * cores, or 1 alone when the build has no `workers` setting. Counts above 1 on such a build are
 * refused, as a string saying why.
 */
export function workerCounts(value: string | undefined, cores: number, multiProcess: boolean): number[] | string {
  if (value === 'none') return []
  if (value === undefined || value === '')
    return multiProcess ? Array.from({ length: Math.max(1, cores) }, (_, i) => i + 1) : [1]
  const counts = value.split(',').map((v) => Number(v.trim()))
  if (counts.some((n) => !Number.isInteger(n) || n < 1))
    return `--workers is a list of worker counts (e.g. 1,2) or none, got ${JSON.stringify(value)}`
  if (!multiProcess && counts.some((n) => n > 1))
    return `--workers ${value}: ${NO_MULTI_PROCESS} (its configuration has no "workers" setting); only --workers 1 can be measured`
  return counts
}

/** Whether the compiled gateway (dist/) knows the top-level `workers` setting. */
export async function hasMultiProcessMode(): Promise<boolean> {
  const schemaFile = join(ROOT, 'dist', 'config', 'schema.js')
  if (!existsSync(schemaFile)) return false
  const { ConfigSchema } = (await import(pathToFileURL(schemaFile).href)) as {
    ConfigSchema: { properties: Record<string, unknown> }
  }
  return ConfigSchema.properties.workers !== undefined
}

/** One real login through the emulator: the session cookie the load sends. */
export async function sessionCookie(gatewayUrl: string): Promise<string> {
  const client = new BrowserLikeClient()
  const landed = await loginThroughEmulator(client, `${gatewayUrl}/bench/login`, MEDECIN)
  const session = client.cookieValue(gatewayUrl, 'psc_session')
  if (landed.status !== 200 || session === undefined) {
    throw new Error(
      `login through the emulator failed: ended at ${landed.url} with ${landed.status}, session cookie ${session === undefined ? 'absent' : 'set'}`,
    )
  }
  return `psc_session=${session}`
}

/**
 * `serve` reaches PSC (the emulator) after it listens: a login answers 503 until the discovery is
 * done. Polled, bounded.
 */
async function untilLoginAvailable(gatewayUrl: string): Promise<void> {
  for (const deadline = Date.now() + 30_000; ; ) {
    const res = await fetch(`${gatewayUrl}/bench/login`, { redirect: 'manual' })
    await res.arrayBuffer()
    if (res.status !== 503) return
    if (Date.now() > deadline) throw new Error(`${gatewayUrl}: a login still answers 503 after 30 s (PSC not reached)`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

export interface ScalingRow {
  workers: number
  processes: number
  measured: Measured
  /** CPU of all the gateway's processes per request, µs */
  gatewayCpuUs: number
  load: number
}

/** Measures the session route on `psc-gateway serve` with each worker count, one after the other. */
export async function measureScaling(
  counts: number[],
  upstream: { url: string; child: Child },
  load: LoadSettings,
  auditDir: string,
): Promise<ScalingRow[]> {
  const rows: ScalingRow[] = []
  for (const workers of counts) {
    const { child, info } = await startChild<{ url: string; pid: number }>(
      `gateway serve ×${workers}`,
      'gateway-serve.ts',
      [upstream.url, join(auditDir, `audit-workers-${workers}.log`), String(workers)],
    )
    try {
      await untilLoginAvailable(info.url)
      const cookie = await sessionCookie(info.url)
      const url = `${info.url}/bench/item`
      const res = await fetch(url, { headers: { cookie }, redirect: 'manual' })
      if (res.status !== 200 || !(await res.text()).includes('bench-upstream'))
        throw new Error(`gateway with ${workers} worker(s): ${url} answered ${res.status}, not the upstream's 200`)
      const pids = [info.pid, ...descendants(info.pid)]
      const watched = [
        { name: 'upstream', pid: upstream.child.proc.pid ?? -1 },
        ...pids.map((pid, i) => ({ name: `gateway process ${i}`, pid })),
      ]
      const loadAvg = loadavg()[0]!
      const measured = await measure(load, { label: `gateway ×${workers}`, url, headers: { cookie } }, watched)
      const gatewayCpuUs = pids.reduce((sum, _, i) => sum + (measured.cpuPerRequestUs[`gateway process ${i}`] ?? 0), 0)
      rows.push({ workers, processes: pids.length, measured, gatewayCpuUs, load: loadAvg })
    } finally {
      await stopChildren([child])
    }
  }
  return rows
}

export function scalingTable(rows: ScalingRow[]): string {
  const header = [
    'workers',
    'processes',
    'req/s',
    'p50 ms',
    'p99 ms',
    'gateway CPU µs/req',
    'upstream µs/req',
    'load avg',
  ]
  const body = rows.map((r) => [
    String(r.workers),
    String(r.processes),
    r.measured.reqPerSec.toFixed(1),
    r.measured.p50.toFixed(2),
    r.measured.p99.toFixed(2),
    r.gatewayCpuUs.toFixed(1),
    (r.measured.cpuPerRequestUs.upstream ?? Number.NaN).toFixed(1),
    r.load.toFixed(2),
  ])
  const all = [header, ...body]
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)))
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return `${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${body.map(line).join('\n')}\n`
}
