// How `serve` with workers: 2 shares its port, measured: one process, two workers behind the
// cluster's round-robin (the primary accepts each connection and hands it to a worker), and two
// workers each listening with SO_REUSEPORT (the kernel spreads connections, no hop through the
// primary). The gateway runs compiled (dist/) as `psc-gateway serve` would, on a public route (no
// session: the port sharing is what differs), with a chained audit file written by the primary.
//
//   npx tsx bench/cluster.ts [--rounds 3] [--duration 10] [--warmup 3] [--connections 50]
import { spawn } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { buildDist, measure, ROOT, startChild, stopChildren, type Measured } from './harness.js'
import { freePort } from '../test/helpers/ports.js'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
  },
})
const load = {
  connections: Number(values.connections),
  duration: Number(values.duration),
  warmup: Number(values.warmup),
}
const OUT = join(ROOT, 'test-output', 'bench', 'cluster')
rmSync(OUT, { recursive: true, force: true })
mkdirSync(OUT, { recursive: true })

const MODES = [
  { label: '1 process', workers: 1, sharing: 'reuseport' },
  { label: '2 round-robin', workers: 2, sharing: 'round-robin' },
  { label: '2 reuseport', workers: 2, sharing: 'reuseport' },
] as const

buildDist()
const { child: upstreamChild, info: upstream } = await startChild<{ url: string }>('upstream', 'upstream.ts', [])

async function serve(mode: (typeof MODES)[number], round: number) {
  const [port, adminPort] = [await freePort(), await freePort()]
  const file = join(OUT, `${mode.workers}-${mode.sharing}-${round}.yaml`)
  writeFileSync(
    file,
    `workers: ${mode.workers}
listen: { host: 127.0.0.1, port: ${port} }
publicUrl: http://127.0.0.1:${port}
admin: { enabled: true, host: 127.0.0.1, port: ${adminPort} }
psc: { environment: custom, issuer: "http://127.0.0.1:9/unused", clientId: bench, clientSecret: "bench-client-secret-0123456789abcdef", allowInsecureHttp: true }
session: { secrets: ["bench-session-secret-0123456789abcdef-xxxx"] }
upstreams: { app: { url: "${upstream.url}" } }
routes: [{ name: public, match: { pathPrefix: /public }, upstream: app, access: public }]
audit: { stdout: false, file: "${join(OUT, `audit-${mode.workers}-${mode.sharing}-${round}.log`)}", hmacKey: "bench-audit-key-0123456789abcdef0123456789" }
log: { level: warn }
`,
  )
  const proc = spawn(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'serve', '--config', file], {
    env: { ...process.env, PSC_GATEWAY_PORT_SHARING: mode.sharing },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const deadline = Date.now() + 60_000
  for (;;) {
    // /readyz says not ready while PSC (absent here) was never reached; /healthz and the port are enough.
    const ok = await fetch(`http://127.0.0.1:${port}/public/x`)
      .then((r) => r.status === 200)
      .catch(() => false)
    if (ok) break
    if (Date.now() > deadline) throw new Error(`${mode.label} did not answer within 60 s`)
    await new Promise((r) => setTimeout(r, 200))
  }
  return {
    url: `http://127.0.0.1:${port}/public/x`,
    stop: () =>
      new Promise<void>((resolve) => {
        proc.once('exit', () => resolve())
        proc.kill('SIGTERM')
      }),
  }
}

const results = new Map<string, Measured[]>()
for (let round = 1; round <= Number(values.rounds); round++) {
  process.stdout.write(`round ${round}\n`)
  const order = round % 2 === 0 ? [...MODES].reverse() : MODES
  for (const mode of order) {
    const running = await serve(mode, round)
    const m = await measure(load, { label: mode.label, url: running.url })
    await running.stop()
    results.set(mode.label, [...(results.get(mode.label) ?? []), m])
  }
}
await stopChildren([upstreamChild])

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN
process.stdout.write(
  `\n${'mode'.padEnd(16)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}  (medians of ${values.rounds} rounds; non-2xx)\n`,
)
for (const mode of MODES) {
  const ms = results.get(mode.label) ?? []
  process.stdout.write(
    `${mode.label.padEnd(16)} ${median(ms.map((m) => m.reqPerSec))
      .toFixed(0)
      .padStart(8)} ${median(ms.map((m) => m.p50))
      .toFixed(2)
      .padStart(8)} ${median(ms.map((m) => m.p99))
      .toFixed(2)
      .padStart(8)}  ${ms.map((m) => m.non2xx + m.errors).join(' ')}\n`,
  )
}
