// The ends of `serve`'s cluster, with real processes. The primary killed (SIGKILL: no drain, no
// message): its workers must not stay behind listening on the public port with no one to write their
// audit events. SIGTERM while a crashed worker waits for its restart (backoff): no worker is started
// during the drain, and the stop is clean (exit 0). A worker killed during the drain may have lost
// audit events: serve's exit code says so (1). A second SIGTERM during the drain is logged, and
// neither cuts the drain short nor closes twice.
import { execFileSync } from 'node:child_process'
import t, { type Test } from 'tap'
import { startEmulator } from '../../dev/emulator/index.js'
import { spawnGateway, until } from '../helpers/gateway-process.js'
import { accepts } from '../helpers/listening.js'
import { processAlive as alive } from '../helpers/ports.js'
import { emulatorClientFor, freePort, stackYaml } from '../helpers/stack.js'

t.setTimeout(300_000)

async function startCluster(t: Test, name: string, workers = 2) {
  const [port, adminPort] = [await freePort(), await freePort()]
  const emulator = await startEmulator({ port: 0, clients: [emulatorClientFor(port)] })
  t.teardown(() => emulator.close())
  const yaml = `workers: ${workers}\n${stackYaml({
    port,
    adminPort,
    issuer: emulator.issuer,
    upstreamUrl: 'http://127.0.0.1:9',
    extraYaml: 'lifecycle: { watchConfig: false, shutdownGrace: 5s, shutdownDelay: 3s }\n',
  })}`
  const gateway = spawnGateway(yaml, name)
  t.teardown(() => gateway.stop('SIGKILL'))
  await until(
    'the primary and both workers to be ready',
    async () => {
      if (gateway.child.exitCode !== null) throw new Error(`serve exited:\n${gateway.output.join('')}`)
      return (await fetch(`http://127.0.0.1:${adminPort}/readyz`).catch(() => undefined))?.status === 200
    },
    120_000,
  )
  const children = () =>
    execFileSync('pgrep', ['-P', String(gateway.child.pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map(Number)
  const count = (line: RegExp) =>
    gateway.output
      .join('')
      .split('\n')
      .filter((l) => line.test(l)).length
  return { port, gateway, children, count }
}

t.test('the primary killed: every worker exits and the port is closed', async (t) => {
  const { port, gateway, children } = await startCluster(t, 'cluster-primary-gone')
  const workers = children()
  t.equal(workers.length, 2, 'two worker processes')
  t.ok(await accepts(port), 'the public port accepts while the primary lives')

  await gateway.stop('SIGKILL')
  await until('both workers gone', async () => workers.every((pid) => !alive(pid)), 60_000)
  t.pass('no worker outlives its primary')
  t.notOk(await accepts(port), 'and nothing listens on the public port')
})

t.test('SIGTERM during a restart backoff: no worker started while draining, exit 0', async (t) => {
  const { gateway, children, count } = await startCluster(t, 'cluster-backoff-drain')
  const [other, first] = children() as [number, number]
  // Three crashes in a row of the same worker: restarted at once, after 1 s, then after 2 s, which
  // falls within the drain (shutdownDelay 3 s).
  let victim = first
  for (let crash = 1; crash <= 3; crash++) {
    process.kill(victim, 'SIGKILL')
    await until(`crash ${crash} seen`, async () => count(/worker exited unasked/) === crash, 60_000)
    if (crash === 3) break
    await until(`restart ${crash}`, async () => count(/worker restarted/) === crash, 60_000)
    await until('the new worker process', async () => children().some((p) => p !== other && p !== victim), 60_000)
    victim = children().find((p) => p !== other && p !== victim)!
  }
  t.equal(count(/worker restarted/), 2, 'the third restart waits (2 s)')
  const code = await gateway.stop('SIGTERM')
  t.equal(code, 0, 'the drain ends cleanly')
  t.equal(count(/worker restarted/), 2, 'no worker was started during the drain')
  t.match(gateway.output.join(''), /stopped cleanly/)
  t.notOk(alive(other), 'the live worker drained and exited')
})

t.test('a worker killed during the drain: serve exits 1 (audit events may be lost)', async (t) => {
  const { gateway, children } = await startCluster(t, 'cluster-drain-kill')
  const [first] = children() as [number]
  const code = gateway.stop('SIGTERM')
  await until('the drain begun', async () => /shutting down/.test(gateway.output.join('')), 60_000)
  // shutdownDelay (3 s) keeps the workers alive: one is cut in the middle of its drain.
  process.kill(first, 'SIGKILL')
  t.equal(await code, 1, 'the exit code says events may be lost')
  t.match(gateway.output.join(''), /did not stop cleanly/, 'and the log names why')
})

for (const workers of [1, 2])
  t.test(`workers: ${workers}, a second SIGTERM during the drain: logged, the drain goes on, exit 0`, async (t) => {
    const { gateway, count } = await startCluster(t, `second-signal-${workers}`, workers)
    const code = gateway.stop('SIGTERM')
    await until('the drain begun', async () => count(/shutting down: not ready/) === 1, 60_000)
    // shutdownDelay (3 s) keeps the drain going: the second signal comes in the middle of it.
    gateway.child.kill('SIGTERM')
    await until('the second signal logged', async () => count(/shutdown already under way/) === 1, 60_000)
    t.equal(await code, 0, 'the drain ends cleanly, not cut short')
    t.match(gateway.output.join(''), /"signal":"SIGTERM"[^\n]*shutdown already under way: signal ignored/)
    t.equal(count(/stopped cleanly/), 1, 'one stop, not two')
    t.equal(count(/shutting down: not ready/), 1, 'one drain')
  })
