// workers: in the configuration: what `check` prints, what `serve` refuses before it starts (file,
// line, key), the restart backoff, and how the workers' metrics are added up into one /metrics.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Counter, Gauge, Registry } from 'prom-client'
import t from 'tap'
import { ClusterRegistry } from '../../src/cluster/cluster-metrics.js'
import type { WorkerMetrics } from '../../src/cluster/messages.js'
import {
  crashesInARow,
  MAX_RESTART_DELAY_MS,
  restartDelayMs,
  STABLE_AFTER_MS,
} from '../../src/cluster/restart-backoff.js'
import { workerCount } from '../../src/config/sections/workers.js'
import { runCliBatch } from '../helpers/cli.js'
import { CLIENT_SECRET, stackYaml } from '../helpers/stack.js'

t.test('check prints the worker count; serve and check refuse a bad one with file, line and key', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'psc-workers-config-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const base = stackYaml({ port: 8080, issuer: 'http://127.0.0.1:9/', upstreamUrl: 'http://127.0.0.1:9' })
  const file = (name: string, workers: string | undefined) => {
    const f = join(dir, `${name}.yaml`)
    writeFileSync(f, `${workers === undefined ? '' : `workers: ${workers}\n`}${base}`)
    return f
  }
  const good = { none: undefined, four: '4', auto: 'auto' }
  const bad = { zero: '0', negative: '-1', many: 'many', quoted: '"many"', tooMany: '65', half: '1.5' }
  const env = { TEST_CLIENT_SECRET: CLIENT_SECRET }
  const runs = [
    ...Object.entries(good).map(([name, w]) => ({ args: ['check', '--config', file(name, w)], env })),
    ...Object.entries(bad).flatMap(([name, w]) => [
      { args: ['check', '--config', file(name, w)], env },
      { args: ['serve', '--config', file(name, w)], env },
    ]),
  ]
  const results = await runCliBatch(runs)
  const [none, four, auto] = results
  t.equal(none!.code, 0, none!.stderr)
  t.match(none!.stdout, /^Workers: 1 process$/m, 'the default: one process')
  t.match(four!.stdout, /^Workers: 4 processes and a primary \(audit, admin, reload\)$/m)
  const cores = availableParallelism()
  t.match(
    auto!.stdout,
    cores === 1
      ? /^Workers: 1 process, auto: one per core$/m
      : new RegExp(`^Workers: ${cores} processes.*, auto: one per core$`, 'm'),
    `auto is one per core (${cores} here)`,
  )
  for (const [i, name] of Object.keys(bad).entries()) {
    for (const r of [results[3 + 2 * i]!, results[4 + 2 * i]!]) {
      t.not(r.code, 0, `${name}: refused`)
      t.match(r.stderr, new RegExp(`${name}\\.yaml:1:10: workers: expected `), `${name}: file, line and key`)
    }
  }
  t.match(results[4]!.stderr, /not starting/, 'serve says it does not start')
})

t.test('more than one worker needs a port of its own: not 0', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'psc-workers-port-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const f = join(dir, 'port0.yaml')
  writeFileSync(
    f,
    `workers: 2\n${stackYaml({ port: 0, issuer: 'http://127.0.0.1:9/', upstreamUrl: 'http://127.0.0.1:9' })}`,
  )
  const [r] = await runCliBatch([{ args: ['check', '--config', f], env: { TEST_CLIENT_SECRET: CLIENT_SECRET } }])
  t.equal(r!.code, 1)
  t.match(r!.stderr, /port0\.yaml:\d+:\d+: listen\.port: with workers other than 1, give the port/)
})

t.test('auto: one per core, at most 64', async (t) => {
  t.equal(
    workerCount('auto', () => 6),
    6,
  )
  t.equal(
    workerCount('auto', () => 200),
    64,
  )
  t.equal(
    workerCount('auto', () => 0),
    1,
  )
  t.equal(workerCount(3), 3)
})

t.test(
  'restarts: at once, then waiting twice as long at each crash in a row; a worker that ran a minute starts over',
  async (t) => {
    t.same([1, 2, 3, 4, 5, 6].map(restartDelayMs), [0, 1000, 2000, 4000, 8000, 16000])
    t.equal(restartDelayMs(12), MAX_RESTART_DELAY_MS, 'capped')
    t.equal(crashesInARow(0, 10), 1)
    t.equal(crashesInARow(5, 500), 6, 'a crash soon after the restart counts')
    t.equal(crashesInARow(5, STABLE_AFTER_MS), 1, 'after a minute up, the count starts again')
  },
)

t.test("one /metrics: the workers' counts added up, process metrics per worker, the primary's own kept", async (t) => {
  const worker = (requests: number, sessions: number) => {
    const r = new Registry()
    new Counter({ name: 'psc_gateway_requests_total', help: 'h', labelNames: ['route'], registers: [r] }).inc(
      { route: 'app' },
      requests,
    )
    new Gauge({ name: 'psc_gateway_active_sessions', help: 'h', registers: [r] }).set(sessions)
    new Gauge({ name: 'process_resident_memory_bytes', help: 'h', registers: [r] }).set(requests * 1000)
    return r.getMetricsAsJSON() as Promise<WorkerMetrics>
  }
  const own = new Registry()
  new Gauge({ name: 'psc_gateway_active_sessions', help: 'h', registers: [own] }).set(42)
  new Gauge({ name: 'process_resident_memory_bytes', help: 'h', registers: [own] }).set(7)
  new Counter({ name: 'psc_gateway_requests_total', help: 'h', labelNames: ['route'], registers: [own] })
  const merged = new ClusterRegistry(own, async () => [
    { worker: 1, metrics: await worker(3, 100) },
    { worker: 2, metrics: await worker(5, 100) },
  ])
  new Gauge({ name: 'psc_gateway_readiness_check_ok', help: 'h', registers: [merged] }).set(1)
  const text = await merged.metrics()
  t.match(text, /^psc_gateway_requests_total\{route="app"\} 8$/m, 'requests of both workers')
  t.match(text, /^psc_gateway_active_sessions 42$/m, "sessions: the primary's store, not a sum of the workers' views")
  t.match(text, /^process_resident_memory_bytes\{worker="primary"\} 7$/m)
  t.match(text, /^process_resident_memory_bytes\{worker="1"\} 3000$/m)
  t.match(text, /^process_resident_memory_bytes\{worker="2"\} 5000$/m)
  t.match(text, /^psc_gateway_readiness_check_ok 1$/m, 'a metric registered on it is the primary s')
})
