// Several replicas sharing sessions in a real redis-server: two gateway PROCESSES (the CLI's
// `serve`), one emulator, one upstream. Log in through A, browse through B, log out through B and A
// refuses at once; Redis down fails closed and recovers by itself.
import { Redis } from 'ioredis'
import t from 'tap'
import { startDemoApp } from '../../dev/demo/app.js'
import { startEmulator } from '../../dev/emulator/index.js'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { spawnGateway, until, type GatewayProcess } from '../helpers/gateway-process.js'
import { startRedis } from '../helpers/redis.js'
import { CLIENT_ID, CLIENT_SECRET, freePort, stackYaml } from '../helpers/stack.js'

interface Replica {
  url: string
  adminUrl: string
  gateway: GatewayProcess
}

async function startReplica(yaml: string, name: string, port: number, adminPort: number): Promise<Replica> {
  const gateway = spawnGateway(yaml, name)
  const replica = { url: `http://127.0.0.1:${port}`, adminUrl: `http://127.0.0.1:${adminPort}`, gateway }
  await until(
    `replica ${name} to be ready`,
    async () => {
      if (gateway.child.exitCode !== null) throw new Error(`replica ${name} exited:\n${gateway.output.join('')}`)
      return (await fetch(`${replica.adminUrl}/readyz`)).status === 200
    },
    60_000,
  ) // two gateway processes starting at once on a loaded 2-core machine
  return replica
}

t.test('two replicas share sessions through Redis', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.close())
  const upstream = await startDemoApp(0)
  t.teardown(() => upstream.close())
  const [portA, portB, adminA, adminB] = [await freePort(), await freePort(), await freePort(), await freePort()]
  const urls = [`http://127.0.0.1:${portA}`, `http://127.0.0.1:${portB}`]
  const emulator = await startEmulator({
    port: 0,
    clients: [
      {
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUris: urls.map((u) => `${u}/_psc/callback`),
        postLogoutRedirectUris: urls.map((u) => `${u}/_psc/logged-out`),
      },
    ],
  })
  t.teardown(() => emulator.close())
  const yaml = (port: number, adminPort: number) =>
    stackYaml({ port, adminPort, issuer: emulator.issuer, upstreamUrl: upstream.url, redisUrl: redis.url })
  const [a, b] = await Promise.all([
    startReplica(yaml(portA, adminA), 'a', portA, adminA),
    startReplica(yaml(portB, adminB), 'b', portB, adminB),
  ])
  t.teardown(async () => {
    await a.gateway.stop()
    await b.gateway.stop()
  })

  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${a.url}/dossier`, '899700218896')
  const cookie = client.cookieValue(a.url, 'psc_session')!
  t.ok(cookie, 'logged in through A')

  // The load balancer sends the next request to B: same cookie, other replica.
  client.setCookie(b.url, { name: 'psc_session', value: cookie })
  const throughB = await client.get(`${b.url}/dossier?format=json`)
  t.equal(throughB.status, 200, 'B knows the session')
  t.equal((JSON.parse(throughB.body) as { headers: Record<string, string> }).headers['x-psc-idnat'], '899700218896')

  // No usable cookie in a Redis dump: keys are hashes of the session id.
  const inspector = new Redis(redis.url)
  t.teardown(() => inspector.quit())
  const keys = await inspector.keys('test:*')
  const id = decodeURIComponent(cookie).split('.')[0]!
  t.ok(
    keys.some((k) => k.startsWith('test:s:')),
    'session keys under the prefix',
  )
  t.notOk(
    keys.some((k) => k.includes(id)),
    'no key contains the session id',
  )
  const values = await Promise.all(keys.filter((k) => k.startsWith('test:s:')).map((k) => inspector.get(k)))
  t.notOk(
    values.some((v) => v?.includes(id)),
    'no value contains the session id',
  )
  const ttl = await inspector.pttl(keys.find((k) => k.startsWith('test:s:'))!)
  t.ok(ttl > 0 && ttl <= 30 * 60_000, 'TTL follows the idle timeout')

  // Redis goes down: protected routes fail closed (503), public routes still work, readiness says
  // why but stays 200: a shared Redis down must not take every replica out of the Service (the
  // ingress would then answer its own 503 even for public routes).
  await redis.stop()
  const down = await client.get(`${a.url}/dossier`)
  t.equal(down.status, 503, 'fail closed while Redis is down')
  t.match(down.body, /momentanément indisponible/)
  t.equal((await fetch(`${a.url}/public/x?format=json`)).status, 200, 'public route still served')
  const degraded = await fetch(`${a.adminUrl}/readyz`)
  t.equal(degraded.status, 200, 'still in the Service')
  t.match(await degraded.json(), {
    status: 'ready',
    degraded: ['sessions'],
    checks: { sessions: { ok: false, reportOnly: true } },
  })

  // Redis comes back (with its data): everything recovers without a restart.
  await redis.start()
  const deadline = Date.now() + 15_000
  let status = 0
  for (;;) {
    status = (await client.get(`${a.url}/dossier?format=json`)).status
    if (status === 200 || Date.now() >= deadline) break
    await new Promise((r) => setTimeout(r, 200))
  }
  t.equal(status, 200, 'the same session works again after the Redis restart')
  t.equal((await fetch(`${a.adminUrl}/readyz`)).status, 200, 'ready again')

  // Logout through B: A refuses the session at once. B must have its Redis connection back first:
  // a logout it cannot write yet is retried later, and A would rightly serve the session meanwhile.
  await until(
    'replica B to reach Redis again',
    async () =>
      ((await (await fetch(`${b.adminUrl}/readyz`)).json()) as { degraded?: string[] }).degraded === undefined,
    15_000,
  )
  const logout = await client.get(`${b.url}/_psc/logout`)
  t.equal(logout.status, 302)
  client.setCookie(a.url, { name: 'psc_session', value: cookie })
  const afterLogout = await client.get(`${a.url}/dossier`)
  t.equal(afterLogout.status, 302, 'A refuses the session ended through B')

  // SIGTERM: the process drains and exits 0, as Kubernetes expects.
  t.equal(await a.gateway.stop(), 0, 'exit code 0 on SIGTERM')
})
