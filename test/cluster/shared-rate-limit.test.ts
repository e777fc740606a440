// @fastify/rate-limit with the shared store: two workers (two fastify apps) count against one
// limit, in the primary over their channels or in a real Redis; each route is counted apart; a
// counter that cannot answer fails the request closed.
import rateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import Fastify, { type FastifyInstance } from 'fastify'
import { MessageChannel } from 'node:worker_threads'
import t, { type Test } from 'tap'
import { messagePortChannel, RpcPeer } from '../../src/cluster/rpc.js'
import {
  primaryRateCounter,
  rateLimitStoreFor,
  sharedRateLimitStore,
  WindowCounts,
} from '../../src/cluster/shared-rate-limit.js'
import { RedisSessionStore } from '../../src/session/redis-store.js'
import { SessionStoreUnavailable } from '../../src/session/store.js'
import { MemorySessionStore } from '../../src/session/memory-store.js'
import { startRedis } from '../helpers/redis.js'

const redis = await startRedis()
t.teardown(() => redis.close())

/** A worker's app: two limited routes (max 3 a minute each), as the login endpoints are. */
async function workerApp(t: Test, store: FastifyRateLimitStoreCtor): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(rateLimit, { global: false, store })
  const limit = { config: { rateLimit: { max: 3, timeWindow: 60_000 } } }
  app.get('/login', limit, async () => 'login')
  app.get('/callback', limit, async () => 'callback')
  app.setErrorHandler((err: Error & { statusCode?: number }, _request, reply) => {
    reply.code(err instanceof SessionStoreUnavailable ? 503 : (err.statusCode ?? 500)).send(err.message)
  })
  await app.ready()
  t.teardown(() => app.close())
  return app
}

async function hits(apps: FastifyInstance[], url: string, n: number, ip = '192.0.2.10'): Promise<number[]> {
  const statuses: number[] = []
  for (let i = 0; i < n; i++)
    statuses.push((await apps[i % apps.length]!.inject({ url, remoteAddress: ip })).statusCode)
  return statuses
}

function workerChannels(t: Test, counts: WindowCounts, n: number): RpcPeer[] {
  return Array.from({ length: n }, () => {
    const { port1, port2 } = new MessageChannel()
    counts.serve(new RpcPeer(messagePortChannel(port1), { timeoutMs: 2000 }))
    t.teardown(() => port1.close())
    return new RpcPeer(messagePortChannel(port2), { timeoutMs: 2000 })
  })
}

t.test('counted in the primary: the limit holds across two workers, per route and per client', async (t) => {
  const counts = new WindowCounts()
  const peers = workerChannels(t, counts, 2)
  const apps = await Promise.all(peers.map((peer) => workerApp(t, rateLimitStoreFor(new MemorySessionStore(10), peer))))
  t.same(await hits(apps, '/login', 5), [200, 200, 200, 429, 429], 'the 4th request, on either worker, is refused')
  t.same(await hits(apps, '/callback', 3), [200, 200, 200], 'another route is counted apart')
  t.same(await hits(apps, '/login', 1, '192.0.2.11'), [200], 'another client is counted apart')
  const limited = await apps[1]!.inject({ url: '/login', remoteAddress: '192.0.2.10' })
  t.equal(limited.headers['x-ratelimit-limit'], '3')
  t.ok(Number(limited.headers['retry-after']) > 0, 'the time left in the window')
})

t.test('the per-process store (the default) lets each worker count on its own: what this store fixes', async (t) => {
  const apps = [Fastify(), Fastify()]
  for (const app of apps) {
    await app.register(rateLimit, { global: false })
    app.get('/login', { config: { rateLimit: { max: 3, timeWindow: 60_000 } } }, async () => 'login')
    await app.ready()
    t.teardown(() => app.close())
  }
  t.same(await hits(apps, '/login', 6), [200, 200, 200, 200, 200, 200], '2 × max pass')
})

t.test('counted in Redis with the Redis session store: two workers, one limit', async (t) => {
  const stores = [0, 1].map(
    () => new RedisSessionStore({ url: redis.url, keyPrefix: 'rate-test:', commandTimeoutMs: 2000 }),
  )
  for (const s of stores) {
    t.teardown(() => s.close())
    await s.ready(5000)
  }
  const unused = new RpcPeer({ send: () => undefined, on: () => undefined }, { timeoutMs: 10 })
  const apps = await Promise.all(stores.map((s) => workerApp(t, rateLimitStoreFor(s, unused))))
  t.same(await hits(apps, '/login', 5), [200, 200, 200, 429, 429])
  t.same(await hits(apps, '/callback', 1), [200])
  const [count, ttl] = await Promise.all([
    stores[0]!.redis.connection.get('rate-test:rate:GET /login 192.0.2.10'),
    stores[0]!.redis.connection.pttl('rate-test:rate:GET /login 192.0.2.10'),
  ])
  t.equal(count, '5', 'one counter in Redis, under the store key prefix')
  t.ok(ttl > 0 && ttl <= 60_000, 'that expires with its window')
})

t.test('a counter that cannot answer refuses the request (503), it never lets it through uncounted', async (t) => {
  const { port1, port2 } = new MessageChannel()
  const primarySide = new RpcPeer(messagePortChannel(port1), { timeoutMs: 100 })
  primarySide.handle('rate.hit', () => new Promise(() => undefined))
  t.teardown(() => port1.close())
  const app = await workerApp(
    t,
    sharedRateLimitStore(primaryRateCounter(new RpcPeer(messagePortChannel(port2), { timeoutMs: 100 }))),
  )
  t.same(await hits([app], '/login', 2), [503, 503])
  const stopped = new RedisSessionStore({ url: redis.url, keyPrefix: 'rate-test2:', commandTimeoutMs: 200 })
  await stopped.ready(5000)
  await stopped.close()
  const onRedis = await workerApp(t, rateLimitStoreFor(stopped, primarySide))
  t.same(await hits([onRedis], '/login', 1), [503], 'Redis unreachable: 503 as well')
})

t.test('fixed windows only: a route asking for growing windows is refused at start-up', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(rateLimit, { global: false, store: sharedRateLimitStore(new WindowCounts()) })
  t.throws(
    () =>
      app.get('/x', { config: { rateLimit: { max: 1, timeWindow: 1000, continueExceeding: true } } }, async () => 'x'),
    /fixed windows only/,
  )
})
