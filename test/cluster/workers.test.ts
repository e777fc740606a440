// `serve` with workers: 2, as a VM runs it: real processes (a primary and its two workers), real
// HTTP on new connections each time, the PSC emulator, a real redis-server for the Redis store. Which
// worker answered a request is read from its audit line (`worker`), never assumed: requests are sent
// on new connections until both workers have been seen. What must hold across the workers: a session
// made on one is served by the other; a logout or an admin revocation ends it on both; a reload
// changes both (a bad file changes neither, audited once); a worker killed with SIGKILL is restarted
// and audited; SIGTERM lets the request in flight finish; the one chain both wrote verifies.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { startEmulator } from '../../dev/emulator/index.js'
import { assertAuditLines } from '../audit/schema-lines.js'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { CLI, runShell } from '../helpers/cli.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { spawnGateway, until } from '../helpers/gateway-process.js'
import { startRedis } from '../helpers/redis.js'
import { emulatorClientFor, freePort, stackYaml } from '../helpers/stack.js'

// Three processes loading TypeScript, an emulator and many logins on a shared 2-core machine.
t.setTimeout(600_000)

const KEY = 'cluster-test-hmac-key-0123456789abcdef-0123'
const TOKEN = 'soc-token-0123456789abcdef0123456789abcdef'
const MEDECIN = '899700218896'

type Line = Record<string, unknown> & { event: string }

/** An upstream that answers at once, except /slow paths: those wait until `release()`. */
async function startUpstream() {
  const arrived: string[] = []
  const held: ServerResponse[] = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    arrived.push(req.url ?? '')
    if (req.url?.includes('/slow')) held.push(res)
    else res.end(JSON.stringify({ url: req.url }))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    arrived,
    release: () => {
      for (const res of held.splice(0)) res.end(JSON.stringify({ slow: true }))
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

async function startCluster(t: Test, store: 'memory' | 'redis') {
  const dir = mkdtempSync(join(tmpdir(), 'psc-cluster-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const tokenFile = join(dir, 'admin-token')
  writeFileSync(tokenFile, `${TOKEN}\n`)
  const auditFile = join(dir, 'audit.log')
  const redis = store === 'redis' ? await startRedis() : undefined
  if (redis) t.teardown(() => redis.close())
  const upstream = await startUpstream()
  t.teardown(() => upstream.close())
  const [port, adminPort] = [await freePort(), await freePort()]
  const emulator = await startEmulator({ port: 0, clients: [emulatorClientFor(port)] })
  t.teardown(() => emulator.close())
  const yaml = (extraRoute = '') =>
    `workers: 2\n${stackYaml({
      port,
      adminPort,
      adminTokenFile: tokenFile,
      issuer: emulator.issuer,
      upstreamUrl: upstream.url,
      ...(redis && { redisUrl: redis.url }),
      extraYaml: `${extraRoute}audit: { stdout: false, file: "${auditFile}", hmacKey: "${KEY}" }
lifecycle: { watchConfig: false, shutdownGrace: 10s, shutdownDelay: 0s }
`,
    })}`
  const gateway = spawnGateway(yaml(), `cluster-${store}`)
  t.teardown(() => gateway.stop('SIGKILL'))
  const url = `http://127.0.0.1:${port}`
  const adminUrl = `http://127.0.0.1:${adminPort}`
  await until(
    'the primary and both workers to be ready',
    async () => {
      if (gateway.child.exitCode !== null) throw new Error(`serve exited:\n${gateway.output.join('')}`)
      return (await fetch(`${adminUrl}/readyz`)).status === 200
    },
    120_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${gateway.output.join('').slice(-3000)}`)
  })
  // A line being written is left for the next read.
  const lines = (): Line[] =>
    readFileSync(auditFile, 'utf8')
      .split('\n')
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Line]
        } catch {
          return []
        }
      })
  return { dir, url, adminUrl, auditFile, gateway, upstream, yaml, lines }
}

type Cluster = Awaited<ReturnType<typeof startCluster>>

let probe = 0
/**
 * GETs `path` + a unique suffix on new connections until both workers answered (or `tries` ran
 * out); the status each worker gave, read from the access events.
 */
async function onBothWorkers(
  t: Test,
  c: Cluster,
  client: BrowserLikeClient,
  path: string,
  tries = 40,
): Promise<Map<number, number[]>> {
  const byWorker = new Map<number, number[]>()
  for (let i = 0; i < tries && byWorker.size < 2; i++) {
    const p = `${path}/probe-${++probe}`
    const res = await client.get(`${c.url}${p}`)
    let line: Line | undefined
    await until(`the access event of ${p}`, async () => {
      line = c.lines().find((l) => l.event === 'access' && l.path === p)
      return line !== undefined
    })
    t.equal(line!.status, res.status, `${p}: the audited status is the one sent`)
    const w = line!.worker as number
    byWorker.set(w, [...(byWorker.get(w) ?? []), res.status])
  }
  return byWorker
}

const bearer = { authorization: `Bearer ${TOKEN}`, accept: 'application/json' }

function sessionCookie(c: Cluster, client: BrowserLikeClient): string {
  const value = client.cookieValue(c.url, 'psc_session')
  if (value === undefined) throw new Error('no session cookie')
  return value
}

async function acrossWorkers(t: Test, store: 'memory' | 'redis') {
  const c = await startCluster(t, store)

  // Log in; the callback (which makes the session) is handled by one worker, requests go to both.
  const client = new BrowserLikeClient()
  const landed = await loginThroughEmulator(client, `${c.url}/dossier`, MEDECIN)
  t.equal(landed.status, 200, 'logged in, the application answers')
  let callback: Line | undefined
  await until('the login event', async () => {
    callback = c.lines().find((l) => l.event === 'login' && l.outcome === 'succeeded')
    return callback !== undefined
  })
  t.ok(callback?.worker === 1 || callback?.worker === 2, `the login was handled by worker ${callback?.worker}`)
  const served = await onBothWorkers(t, c, client, '/dossier')
  t.same([...served.keys()].sort(), [1, 2], 'requests reached both workers')
  for (const [w, statuses] of served)
    t.ok(
      statuses.every((s) => s === 200),
      `worker ${w} serves the session`,
    )

  // One /metrics: the requests of both workers added up, process metrics per worker.
  const metrics = await (await fetch(`${c.adminUrl}/metrics`)).text()
  const requests = [...metrics.matchAll(/^psc_gateway_requests_total\{[^}]*\} (\d+)$/gm)].reduce(
    (n, m) => n + Number(m[1]),
    0,
  )
  const accessEvents = c.lines().filter((l) => l.event === 'access').length
  t.equal(requests, accessEvents, `/metrics counts every audited request of both workers (${requests})`)
  for (const w of ['primary', '1', '2'])
    t.match(metrics, new RegExp(`process_resident_memory_bytes\\{worker="${w}"\\}`), `process metrics of ${w}`)
  t.match(metrics, /^psc_gateway_workers 2$/m)

  // Logout, on whichever worker gets it: the old cookie is refused on both.
  const oldCookie = sessionCookie(c, client)
  t.equal((await client.get(`${c.url}/_psc/logout`)).status, 302)
  client.setCookie(c.url, { name: 'psc_session', value: oldCookie })
  const afterLogout = await onBothWorkers(t, c, client, '/dossier')
  t.same([...afterLogout.keys()].sort(), [1, 2])
  for (const [w, statuses] of afterLogout)
    t.ok(
      statuses.every((s) => s === 302),
      `worker ${w} sends the logged-out cookie to log in again`,
    )

  // An admin revocation through the primary's admin listener: refused on both.
  const again = new BrowserLikeClient()
  t.equal((await loginThroughEmulator(again, `${c.url}/dossier`, MEDECIN)).status, 200)
  const revoked = await fetch(`${c.adminUrl}/sessions?practitioner=${MEDECIN}`, { method: 'DELETE', headers: bearer })
  t.equal(revoked.status, 200)
  t.equal(((await revoked.json()) as { revoked: unknown[] }).revoked.length, 1, 'the live session is revoked')
  const afterRevoke = await onBothWorkers(t, c, again, '/dossier')
  t.same([...afterRevoke.keys()].sort(), [1, 2])
  for (const [w, statuses] of afterRevoke)
    t.ok(
      statuses.every((s) => s === 302),
      `worker ${w} refuses the revoked session`,
    )

  // A reload adds a public route: both workers serve it. Audited once, by the primary.
  const anonymous = new BrowserLikeClient()
  const before = await onBothWorkers(t, c, anonymous, '/nouvelle')
  for (const statuses of before.values())
    t.ok(
      statuses.every((s) => s === 302),
      'not public yet',
    )
  const reloadsBefore = c.lines().filter((l) => l.event === 'config').length
  writeFileSync(
    c.gateway.file,
    c
      .yaml('')
      .replace(
        'routes:\n',
        'routes:\n  - name: nouvelle\n    match: { pathPrefix: /nouvelle }\n    upstream: app\n    access: public\n',
      ),
  )
  c.gateway.child.kill('SIGHUP')
  await until('the reload audited', async () => c.lines().some((l) => l.event === 'config' && l.outcome === 'reloaded'))
  const reloaded = await onBothWorkers(t, c, anonymous, '/nouvelle')
  t.same([...reloaded.keys()].sort(), [1, 2])
  for (const [w, statuses] of reloaded)
    t.ok(
      statuses.every((s) => s === 200),
      `worker ${w} serves the new route`,
    )
  const hash = c.lines().find((l) => l.event === 'config' && l.outcome === 'reloaded')!.configHash
  const probes = c.lines().filter((l) => l.event === 'access' && String(l.path).startsWith('/nouvelle/'))
  t.equal(probes.at(-1)!.configHash, hash, 'the access events name the new configuration')

  // A bad file: refused once, and both workers keep the routes in force.
  writeFileSync(c.gateway.file, c.yaml('').replace('workers: 2', 'workers: "many"'))
  c.gateway.child.kill('SIGHUP')
  await until('the refusal audited', async () => c.lines().some((l) => l.event === 'config' && l.outcome === 'refused'))
  const stillServed = await onBothWorkers(t, c, anonymous, '/nouvelle')
  t.same([...stillServed.keys()].sort(), [1, 2])
  for (const [w, statuses] of stillServed)
    t.ok(
      statuses.every((s) => s === 200),
      `worker ${w} keeps the configuration in force`,
    )
  const configEvents = c.lines().filter((l) => l.event === 'config')
  t.equal(configEvents.length - reloadsBefore, 2, 'one reloaded and one refused event, not one per worker')
  t.match(configEvents.at(-1), { outcome: 'refused', reason: /workers/ })
  t.notOk(
    configEvents.some((l) => l.worker !== undefined),
    'config events are the primary s, with no worker number',
  )
  t.equal(configEvents.filter((l) => l.outcome === 'loaded').length, 1, 'loaded once at start')

  // SIGKILL one worker: the primary audits it and starts another with the same number.
  const primaryPid = c.gateway.child.pid!
  // Live children only: a process that exited and is not reaped yet (state Z) is no worker.
  const workers = execFileSync('ps', ['-o', 'pid=,stat=', '--ppid', String(primaryPid)], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([, stat]) => !stat!.startsWith('Z'))
    .map(([pid]) => pid!)
  t.equal(workers.length, 2, 'two worker processes')
  process.kill(Number(workers[0]), 'SIGKILL')
  await until('the restart audited', async () =>
    c.lines().some((l) => l.event === 'worker' && l.outcome === 'restarted'),
  )
  const exited = c.lines().find((l) => l.event === 'worker' && l.outcome === 'exited')
  t.match(exited, { pid: Number(workers[0]), signal: 'SIGKILL' }, 'the kill is audited')
  t.match(
    c.lines().find((l) => l.event === 'worker' && l.outcome === 'restarted'),
    { worker: exited!.worker, restarts: 1, delayMs: 0 },
  )
  // The log reaches the pipe on its own schedule, not with the audit line: wait for it.
  await until('the exit logged', async () => /worker exited unasked/.test(c.gateway.output.join('')))
  t.match(c.gateway.output.join(''), /worker exited unasked/, 'and logged')
  await until('both workers ready again', async () => (await fetch(`${c.adminUrl}/readyz`)).status === 200)
  const afterRestart = await onBothWorkers(t, c, anonymous, '/nouvelle')
  t.same([...afterRestart.keys()].sort(), [1, 2], 'the restarted worker serves, with the reloaded routes')
  for (const [w, statuses] of afterRestart)
    t.ok(
      statuses.every((s) => s === 200),
      `worker ${w} answers 200`,
    )

  // SIGTERM while a request is in flight: it finishes, then everything stops, exit 0.
  const slow = anonymous.get(`${c.url}/nouvelle/slow`)
  await until('the slow request upstream', async () => c.upstream.arrived.some((u) => u.includes('/slow')))
  const exitCode = c.gateway.stop('SIGTERM')
  await until('the primary draining', async () => (await fetch(`${c.adminUrl}/readyz`)).status === 503).catch(
    () => undefined,
  )
  c.upstream.release()
  t.equal((await slow).status, 200, 'the request in flight was answered')
  t.equal(await exitCode, 0, 'serve exits 0')
  t.match(
    c.lines().find((l) => l.event === 'access' && l.path === '/nouvelle/slow'),
    { status: 200 },
    'and audited before the end',
  )
  t.notOk(
    c
      .lines()
      .some(
        (l) => l.event === 'worker' && (l.exitCode !== undefined || l.signal !== undefined) && l.pid !== exited!.pid,
      ),
    'the drain is not taken for crashes',
  )

  // The one chain both workers wrote: valid lines, every request with its worker, and it verifies.
  const text = readFileSync(c.auditFile, 'utf8')
  assertAuditLines(t, text)
  const access = c.lines().filter((l) => l.event === 'access')
  t.ok(
    access.every((l) => l.worker === 1 || l.worker === 2),
    'every access event names its worker',
  )
  const verify = await runShell(`${CLI} audit verify ${c.auditFile} --key-env AUDIT_HMAC_KEY`, { AUDIT_HMAC_KEY: KEY })
  t.equal(verify.code, 0, `audit verify passes: ${verify.stdout}${verify.stderr}`)
}

t.test('workers: 2 with the Redis session store', (t) => acrossWorkers(t, 'redis'))
t.test('workers: 2 with the memory store, held by the primary', (t) => acrossWorkers(t, 'memory'))
