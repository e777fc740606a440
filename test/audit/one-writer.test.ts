// One writer per audit file, with real gateway processes: a second `serve` on the same file is
// refused before it writes a byte (it used to append to the live file, which the running gateway's
// chain then read as removed lines); a lock left by a gateway killed with SIGKILL is taken over.
// And events still queued at SIGTERM during an outage are written into the chain, as a gap, by the
// next start: verify reports them.
import t from 'tap'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { verifyAuditFiles } from '../../src/audit/tools/verify.js'
import { verifyExitCode } from '../../src/audit/tools/verify-report.js'
import { freePort } from '../helpers/stack.js'
import { spawnGateway, until, type GatewayProcess } from '../helpers/gateway-process.js'
import { mountSmallDisk } from './tmpfs.js'
import { assertAuditLines } from './schema-lines.js'

const KEY = 'one-writer-test-hmac-key-0123456789abcdef'
const key = Buffer.from(KEY)
// Each test starts gateway processes (TypeScript loaded each time): slow on a busy machine.
t.setTimeout(600_000)

function yaml(port: number, file: string, extra = ''): string {
  return `
listen: { host: 127.0.0.1, port: ${port} }
publicUrl: http://127.0.0.1:${port}
admin: { enabled: false }
psc: { environment: custom, issuer: "http://127.0.0.1:9/unused", clientId: c, clientSecret: "\${TEST_CLIENT_SECRET}", allowInsecureHttp: true }
session: { secrets: ["a-session-secret-of-at-least-32-characters"] }
upstreams: { app: { url: "http://127.0.0.1:9" } }
routes: [{ name: public, match: { pathPrefix: /public }, upstream: app, access: public }]
audit: { stdout: false, file: ${file}, hmacKey: "${KEY}"${extra} }
lifecycle: { shutdownGrace: 1s, shutdownDelay: 0s }
`
}

async function listening(gw: GatewayProcess): Promise<void> {
  await until('the gateway to listen', async () => gw.output.join('').includes('psc-gateway listening'), 90_000).catch(
    (err: Error) => {
      throw new Error(`${err.message}; it printed: ${gw.output.join('').slice(0, 2000)}`)
    },
  )
}

const accessLines = (file: string) =>
  existsSync(file) ? readFileSync(file, 'utf8').split('"event":"access"').length - 1 : 0

async function requests(port: number, n: number): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, () =>
      fetch(`http://127.0.0.1:${port}/public/x`)
        .then((r) => r.arrayBuffer())
        .catch(() => undefined),
    ),
  )
}

t.test(
  "a second gateway on the same audit file is refused before it writes anything; the first one's chain stays intact",
  { timeout: 240_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'one-writer-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const file = join(dir, 'audit.log')
    const port1 = await freePort()
    const first = spawnGateway(yaml(port1, file), 'first')
    t.teardown(() => first.stop('SIGKILL'))
    await listening(first)
    await requests(port1, 20)
    await until("the first gateway's events in its file", async () => accessLines(file) >= 20, 30_000)
    const before = readFileSync(file)

    const port2 = await freePort()
    const second = spawnGateway(yaml(port2, file), 'second')
    t.teardown(() => second.stop('SIGKILL'))
    await until(
      'the second gateway to exit or to listen',
      async () => second.child.exitCode !== null || second.output.join('').includes('psc-gateway listening'),
      90_000,
    )
    const said = second.output.join('')
    const code = second.child.exitCode ?? (await second.stop('SIGKILL'))
    t.not(code, 0, 'the second gateway exits non-zero')
    t.match(
      said,
      `le fichier d'audit ${file} est déjà écrit par le processus ${first.child.pid}`,
      'in French, naming the file and the holder pid',
    )
    t.match(said, `the audit file ${file} is already written by process ${first.child.pid}`, 'and in English')
    t.notMatch(said, /psc-gateway listening/)
    t.same(readFileSync(file), before, 'not a byte was added to the live file')
    t.ok(existsSync(`${file}.lock`), 'the running gateway holds the lock')
    t.match(
      existsSync(`${file}.lock`) ? readFileSync(`${file}.lock`, 'utf8') : '',
      new RegExp(`"pid":${first.child.pid}`),
      'the lock names its pid',
    )

    await requests(port1, 20)
    t.equal(await first.stop('SIGTERM'), 0, 'the first gateway stops cleanly')
    t.notOk(existsSync(`${file}.lock`), 'the lock is removed at a clean stop')
    const r = await verifyAuditFiles([file], key)
    t.same(r.findings, [], 'no false tamper alarm')
    t.equal(r.chains, 1)
    t.equal(r.gaps.length, 0)
    assertAuditLines(t, readFileSync(file, 'utf8'))
  },
)

t.test(
  'a lock left by a gateway killed with SIGKILL is taken over (its pid is gone)',
  { timeout: 240_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'one-writer-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const file = join(dir, 'audit.log')
    const port = await freePort()
    const killed = spawnGateway(yaml(port, file), 'killed')
    await listening(killed)
    await requests(port, 5)
    await until('its events in the file', async () => accessLines(file) >= 5, 30_000)
    await killed.stop('SIGKILL')
    t.ok(existsSync(`${file}.lock`), 'SIGKILL leaves the lock behind')
    const next = spawnGateway(yaml(port, file), 'next')
    t.teardown(() => next.stop('SIGKILL'))
    await listening(next)
    await requests(port, 5)
    t.equal(await next.stop('SIGTERM'), 0)
    const r = await verifyAuditFiles([file], key)
    t.same(r.findings, [], 'the chain goes on across the takeover')
    t.equal(r.chains, 2)
  },
)

t.test(
  'events still queued at SIGTERM during an outage: the next start writes their gap into the chain, verify reports it',
  { timeout: 240_000 },
  async (t) => {
    const disk = mountSmallDisk(64)
    t.teardown(() => disk.unmount())
    const file = join(disk.dir, 'audit.log')
    const port = await freePort()
    const gw = spawnGateway(yaml(port, file, ', maxQueuedEvents: 100, writeWait: 1s, shutdownWait: 1s'), 'outage')
    t.teardown(() => gw.stop('SIGKILL'))
    await listening(gw)
    try {
      writeFileSync(join(disk.dir, 'filler'), Buffer.alloc(64 * 1024))
    } catch {
      /* full */
    }
    await requests(port, 40)
    await until('the audit file to fail', async () => gw.output.join('').includes('audit output cannot write'), 30_000)
    const code = await gw.stop('SIGTERM')
    t.equal(code, 1, 'the stop says events were lost')
    const counted = /psc-gateway audit: (\d+) event\(s\) could not be written to the audit file/.exec(
      gw.output.join(''),
    )
    t.ok(counted, 'counted on stderr')
    const lost = Number(counted![1])
    const lock = JSON.parse(readFileSync(`${file}.lock`, 'utf8')) as {
      released: boolean
      unwritten: { lost: number; from: string; to: string; error: string }
    }
    t.equal(lock.released, true, 'the lock file is left, released')
    t.equal(lock.unwritten.lost, lost, 'with the count, although the disk is full')
    t.match(lock.unwritten.error, /ENOSPC/)

    rmSync(join(disk.dir, 'filler'))
    const next = spawnGateway(yaml(port, file), 'after-outage')
    t.teardown(() => next.stop('SIGKILL'))
    await listening(next)
    await requests(port, 3)
    t.equal(await next.stop('SIGTERM'), 0)
    t.notOk(existsSync(`${file}.lock`), 'the record is consumed')
    const r = await verifyAuditFiles([file], key)
    t.same(r.findings, [], 'the chain is intact')
    t.equal(r.gaps.length, 1, 'one gap record')
    t.match(r.gaps[0], { lost, reason: 'shutdown', from: lock.unwritten.from, to: lock.unwritten.to })
    t.equal(verifyExitCode(r), 3, 'verify: intact, with a gap')
    const gapLine = readFileSync(file, 'utf8')
      .split('\n')
      .find((l) => l.includes('"event":"gap"'))!
    t.match(
      gapLine,
      /"detail":"still queued when the previous process stopped; the output's last error: .*ENOSPC/,
      'the cause',
    )
    assertAuditLines(t, readFileSync(file, 'utf8'))
  },
)
