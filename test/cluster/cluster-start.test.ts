// `serve`'s start, with real processes. A worker that hangs before it listens (alive, connected)
// does not leave serve waiting for ever: past the start's deadline serve names it, stops the others
// and exits 1. A Redis that answers nothing at start (SIGSTOP) is waited for, bounded, before the
// public port opens (workers: 1 and each worker of a cluster), so the first requests are not 503
// "store unavailable"; past the wait serve listens anyway and /readyz reports the store.
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { sign } from '@fastify/cookie'
import t, { type Test } from 'tap'
import { startEmulator } from '../../dev/emulator/index.js'
import { STORE_WAIT_MS } from '../../src/session/store-ready.js'
import { spawnGateway, until } from '../helpers/gateway-process.js'
import { accepts } from '../helpers/listening.js'
import { processAlive as alive } from '../helpers/ports.js'
import { startRedis } from '../helpers/redis.js'
import { emulatorClientFor, freePort, SESSION_SECRET, stackYaml } from '../helpers/stack.js'

t.setTimeout(300_000)

/** The hung worker is given up on after this: short, but longer than the healthy worker takes on a loaded machine (over 20 s at load 20). */
const START_DEADLINE_MS = 25_000

async function gatewayYaml(t: Test, o: { workers: number; redisUrl?: string; workerStartTimeout?: string }) {
  const [port, adminPort] = [await freePort(), await freePort()]
  const emulator = await startEmulator({ port: 0, clients: [emulatorClientFor(port)] })
  t.teardown(() => emulator.close())
  const yaml = `workers: ${o.workers}\n${stackYaml({
    port,
    adminPort,
    issuer: emulator.issuer,
    upstreamUrl: 'http://127.0.0.1:9',
    ...(o.redisUrl !== undefined && { redisUrl: o.redisUrl }),
    // the default start deadline unless asked: a loaded machine takes over 10 s to start a worker
    extraYaml: `lifecycle: { watchConfig: false, shutdownGrace: 5s${o.workerStartTimeout === undefined ? '' : `, workerStartTimeout: ${o.workerStartTimeout}`} }\n`,
  })}`
  return { yaml, port, adminPort }
}

t.test('a worker that hangs before it listens: serve names it, stops the others, exits 1', async (t) => {
  const { yaml } = await gatewayYaml(t, { workers: 2, workerStartTimeout: `${START_DEADLINE_MS / 1000}s` })
  const spawnedAt = Date.now()
  const gateway = spawnGateway(yaml, 'cluster-hung-worker', {
    NODE_OPTIONS: `--import=${join(import.meta.dirname, 'hang-worker.mjs')}`,
    TEST_HANG_WORKER: '2',
  })
  t.teardown(() => gateway.stop('SIGKILL'))
  const workers = () =>
    execFileSync('pgrep', ['-P', String(gateway.child.pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(Number)
  await until('both workers forked', async () => workers().length === 2, 60_000)
  const pids = workers()
  const started = Date.now()
  const exited = new Promise<number | null>((r) => gateway.child.once('exit', (code) => r(code)))
  await until('serve to give up on the hung worker', async () => gateway.child.exitCode !== null, 120_000)
  t.equal(await exited, 1, 'serve exits 1')
  // the deadline runs from the fork, which comes after the spawn and before both are seen forked
  t.ok(Date.now() - spawnedAt >= START_DEADLINE_MS, 'not before the start deadline')
  t.ok(Date.now() - started < START_DEADLINE_MS + 15_000, 'at the start deadline, not later')
  const out = gateway.output.join('')
  t.match(out, /"worker":2,[^\n]*"step":"no word from it since it was forked"[^\n]*worker did not start in time/)
  t.match(out, /worker 2 did not listen within 25 s \(last step: no word from it since it was forked\)/)
  t.notMatch(out, /psc-gateway listening/, 'serve never said it listened')
  await until('every worker gone', async () => pids.every((pid) => !alive(pid)), 30_000)
  t.pass('no worker outlives it')
})

/** A protected route with a signed session cookie: the store is read (no such session: 401, log in). */
const withSession = (port: number) =>
  fetch(`http://127.0.0.1:${port}/dossier/1`, {
    redirect: 'manual',
    headers: { cookie: `psc_session=${encodeURIComponent(sign('S'.repeat(43), SESSION_SECRET))}` },
  })

for (const workers of [1, 2]) {
  t.test(`workers: ${workers}, Redis frozen at start: serve waits for it before listening`, async (t) => {
    const redis = await startRedis()
    t.teardown(() => redis.close())
    const { yaml, port } = await gatewayYaml(t, { workers, redisUrl: redis.url })
    redis.freeze()
    const gateway = spawnGateway(yaml, `store-wait-${workers}`)
    t.teardown(() => gateway.stop('SIGKILL'))
    const waits = () =>
      gateway.output
        .join('')
        .split('\n')
        .filter((l) => /waiting for the session store/.test(l))
    // Before the wait, serve would listen at once (and answer 503 to requests that need the store).
    await until('serve waiting for the store, or listening', async () => waits().length === workers || accepts(port))
    t.notOk(await accepts(port), 'the public port is not open while the store cannot answer')
    t.equal(waits().length, workers, 'each process says it waits')
    redis.thaw()
    // Every process listening (serve says so once all do, then takes SIGTERM as a drain).
    await until('serve listening', async () => /psc-gateway listening/.test(gateway.output.join('')), 60_000)
    const statuses = await Promise.all(Array.from({ length: 8 }, () => withSession(port).then((r) => r.status)))
    t.same(new Set(statuses), new Set([401]), 'the first requests read the store (no such session: log in), never 503')
    t.equal(gateway.output.join('').match(/session store connected/g)?.length, workers, 'each process says so')
    t.equal(await gateway.stop('SIGTERM'), 0)
  })
}

t.test('Redis still frozen past the wait: serve listens anyway, /readyz reports the store', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.close())
  const { yaml, port, adminPort } = await gatewayYaml(t, { workers: 1, redisUrl: redis.url })
  redis.freeze()
  const gateway = spawnGateway(yaml, 'store-wait-past')
  t.teardown(() => gateway.stop('SIGKILL'))
  const waiting = Date.now()
  await until(
    'serve waiting for the store, or listening',
    async () => /waiting for the session store/.test(gateway.output.join('')) || accepts(port),
  )
  await until('serve listening', async () => /psc-gateway listening/.test(gateway.output.join('')), 60_000)
  t.ok(Date.now() - waiting >= STORE_WAIT_MS, 'after the wait')
  t.match(gateway.output.join(''), /session store still unavailable: listening anyway/)
  const ready = await fetch(`http://127.0.0.1:${adminPort}/readyz`)
  // The store is reported, not a reason to take the replica out: its public routes work.
  t.match(
    await ready.json(),
    { checks: { sessions: { ok: false, reportOnly: true, reason: /Redis/ } } },
    'readiness reports the store',
  )
  t.equal((await withSession(port)).status, 503, 'a protected route fails closed meanwhile')
  redis.thaw()
  await until('the store back', async () => (await withSession(port)).status === 401, 30_000)
  t.equal(await gateway.stop('SIGTERM'), 0)
})
