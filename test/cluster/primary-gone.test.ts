// The primary of `serve`'s cluster killed (SIGKILL: no drain, no message): its workers must not stay
// behind listening on the public port with no one to write their audit events. Real processes.
import { execFileSync } from 'node:child_process'
import { connect } from 'node:net'
import t from 'tap'
import { startEmulator } from '../../dev/emulator/index.js'
import { spawnGateway, until } from '../helpers/gateway-process.js'
import { emulatorClientFor, freePort, stackYaml } from '../helpers/stack.js'

t.setTimeout(300_000)

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })

t.test('the primary killed: every worker exits and the port is closed', async (t) => {
  const [port, adminPort] = [await freePort(), await freePort()]
  const emulator = await startEmulator({ port: 0, clients: [emulatorClientFor(port)] })
  t.teardown(() => emulator.close())
  const yaml = `workers: 2\n${stackYaml({ port, adminPort, issuer: emulator.issuer, upstreamUrl: 'http://127.0.0.1:9' })}`
  const gateway = spawnGateway(yaml, 'cluster-primary-gone')
  t.teardown(() => gateway.stop('SIGKILL'))
  await until(
    'the primary and both workers to be ready',
    async () => {
      if (gateway.child.exitCode !== null) throw new Error(`serve exited:\n${gateway.output.join('')}`)
      return (await fetch(`http://127.0.0.1:${adminPort}/readyz`).catch(() => undefined))?.status === 200
    },
    120_000,
  )
  const workers = execFileSync('pgrep', ['-P', String(gateway.child.pid)], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map(Number)
  t.equal(workers.length, 2, 'two worker processes')
  t.ok(await accepts(port), 'the public port accepts while the primary lives')

  await gateway.stop('SIGKILL')
  await until('both workers gone', async () => workers.every((pid) => !alive(pid)), 60_000)
  t.pass('no worker outlives its primary')
  t.notOk(await accepts(port), 'and nothing listens on the public port')
})
