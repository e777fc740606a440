// Two gateways built as two cluster workers would be (buildGateway with options.sessionStore and
// options.rateLimitStore), their sessions and rate limits held by one primary over their channels:
// a session works on both, a revoke in the primary ends it on both, the login limit is counted once.
import { MessageChannel } from 'node:worker_threads'
import { Writable } from 'node:stream'
import { createServer } from 'node:http'
import t from 'tap'
import { startDemoApp } from '../../dev/demo/app.js'
import { IpcSessionStore } from '../../src/cluster/ipc-session-store.js'
import { PrimaryStoreServer } from '../../src/cluster/primary-store.js'
import { messagePortChannel, RpcPeer } from '../../src/cluster/rpc.js'
import { rateLimitStoreFor, WindowCounts } from '../../src/cluster/shared-rate-limit.js'
import { loadConfigText } from '../../src/config/load.js'
import { buildGateway } from '../../src/gateway.js'
import { SessionManager } from '../../src/session/manager.js'
import { MemorySessionStore } from '../../src/session/memory-store.js'
import { sessionFields } from '../helpers/unit.js'
import { CLIENT_SECRET, stackYaml } from '../helpers/stack.js'

const quiet = () => new Writable({ write: (_c, _e, done) => done() })

async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

t.test("two workers, one primary: sessions, revoke and the login limit are the whole gateway's", async (t) => {
  const upstream = await startDemoApp(0)
  t.teardown(() => upstream.close())
  const yaml = `${stackYaml({ port: 8080, issuer: `http://127.0.0.1:${await closedPort()}`, upstreamUrl: upstream.url })}
limits: { rateLimit: { max: 4, window: 1m } }
`
  const { config } = loadConfigText(yaml, 'cluster-wiring.yaml', { TEST_CLIENT_SECRET: CLIENT_SECRET })

  const primaryStore = new MemorySessionStore(1000)
  const server = new PrimaryStoreServer(primaryStore)
  const counts = new WindowCounts()
  const admin = new SessionManager(primaryStore, config.session)
  const gateways = []
  for (let i = 0; i < 2; i++) {
    const { port1, port2 } = new MessageChannel()
    const primarySide = new RpcPeer(messagePortChannel(port1), { timeoutMs: 2000 })
    server.serve(primarySide)
    counts.serve(primarySide)
    const peer = new RpcPeer(messagePortChannel(port2), { timeoutMs: 2000 })
    const sessionStore = new IpcSessionStore(peer)
    const gateway = await buildGateway(config, {
      logStream: quiet() as never,
      audit: { write: () => undefined },
      sessionStore,
      rateLimitStore: rateLimitStoreFor(sessionStore, peer),
    })
    t.teardown(async () => {
      await gateway.close()
      port1.close()
    })
    t.equal(gateway.sessions.store, sessionStore, 'the store given is the one used')
    gateways.push(gateway)
  }
  t.teardown(() => primaryStore.close())
  const [a, b] = gateways as [(typeof gateways)[0], (typeof gateways)[0]]

  const { id, record } = await admin.create(sessionFields())
  const cookie = `${config.session.cookieName}=${a.app.signCookie(id)}`
  const page = { url: '/medecins/', headers: { cookie, accept: 'text/html' } }
  t.equal((await a.app.inject(page)).statusCode, 200, 'worker A serves the session the primary holds')
  t.equal((await b.app.inject(page)).statusCode, 200, 'so does worker B')

  t.same(
    (await admin.revoke({ ref: record.ref })).map((s) => s.ref),
    [record.ref],
  )
  for (const [name, gw] of [
    ['A', a],
    ['B', b],
  ] as const) {
    const after = await gw.app.inject(page)
    t.not(after.statusCode, 200, `revoked in the primary: worker ${name} no longer serves it (${after.statusCode})`)
    t.notMatch(after.body, /Jeanne/)
  }

  const statuses = []
  for (let i = 0; i < 6; i++)
    statuses.push(
      (await [a, b][i % 2]!.app.inject({ url: `${config.prefix}/login`, remoteAddress: '192.0.2.30' })).statusCode,
    )
  t.same(
    statuses.map((s) => s === 429),
    [false, false, false, false, true, true],
    `max 4 for the whole gateway, not per worker (${statuses.join(', ')})`,
  )
})
