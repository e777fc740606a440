// The Redis store on a real redis-server: per request only the GET is I/O (the key's hash is
// computed once per id, a record decoded once per exact text Redis holds), and that never serves a
// stale record: a changed, deleted or expired session reads back as what Redis holds now.
import t, { type Test } from 'tap'
import { RedisSessionStore } from '../../src/session/redis-store.js'
import { SessionManager } from '../../src/session/manager.js'
import type { SessionRecord } from '../../src/session/store.js'
import { startRedis } from '../helpers/redis.js'
import { until } from '../helpers/until.js'

function record(over: Partial<SessionRecord> = {}): SessionRecord {
  const now = Date.now()
  return {
    identity: {
      sub: 'f:1:899700218896',
      idNat: '899700218896',
      rpps: '99700218896',
      familyName: 'Martin',
      givenName: 'Zoé',
      acr: 'eidas1',
      authMode: 'CARD',
      exercices: [],
    },
    idToken: 'id-token',
    accessToken: 'access-token',
    refreshToken: 'refresh-token',
    accessTokenExpiresAt: now + 120_000,
    createdAt: now,
    lastSeenAt: now,
    ref: 'ref-1',
    ...over,
  } as SessionRecord
}

// One redis-server for the file; each test has its own key prefix.
const redis = await startRedis()
t.teardown(() => redis.close())

async function storeFor(t: Test, keyPrefix: string): Promise<RedisSessionStore> {
  const store = new RedisSessionStore({ url: redis.url, keyPrefix, commandTimeoutMs: 2000 })
  t.teardown(() => store.close())
  await store.ready(5000)
  return store
}

t.test('decoded once per text, never stale', async (t) => {
  const store = await storeFor(t, 'decoded:')
  const id = 'A'.repeat(43)
  await store.set(id, record(), 60_000)
  const first = await store.get(id)
  const second = await store.get(id)
  t.equal(first, second, 'the same text gives the same decoded record')
  t.equal(first?.accessToken, 'access-token')

  await store.set(id, record({ accessToken: 'refreshed' }), 60_000)
  const changed = await store.get(id)
  t.not(changed, first, 'a changed record is decoded again')
  t.equal(changed?.accessToken, 'refreshed')

  await store.delete(id)
  t.equal(await store.get(id), undefined, 'a deleted session is gone at once')

  await store.set(id, record(), 50)
  await new Promise((r) => setTimeout(r, 150)) // time passing: past the 50 ms TTL
  t.equal(await store.get(id), undefined, 'an expired session is gone')
  t.equal(await store.get('B'.repeat(43)), undefined)
})

t.test('a touch writes a copy: the record another request holds is not changed under it', async (t) => {
  const store = await storeFor(t, 'touch:')
  let now = Date.now()
  const manager = new SessionManager(store, { idleTimeoutMs: 30 * 60_000, absoluteTimeoutMs: 8 * 3600_000 }, () => now)
  const { id } = await manager.create({
    identity: record().identity,
    idToken: 'i',
    accessToken: 'a',
    accessTokenExpiresAt: now + 120_000,
  } as never)
  const held = await store.get(id)
  const seenAt = held!.lastSeenAt
  now += 10 * 60_000
  const loaded = await manager.load(id)
  t.equal(loaded.kind, 'alive')
  t.equal(held!.lastSeenAt, seenAt, 'the shared record is unchanged')
  t.equal((await store.get(id))?.lastSeenAt, now, 'Redis has the new time')
})

t.test(
  'shared values (CIBA state): of replicas taking at once, exactly one gets the value; TTL honoured',
  async (t) => {
    const [a, b] = [await storeFor(t, 'shared:'), await storeFor(t, 'shared:')]
    await a.putShared('ciba:request:x', '{"state":"approved"}', 60_000)
    t.equal(await b.getShared('ciba:request:x'), '{"state":"approved"}', 'a second replica reads it')
    const takes = await Promise.all([
      a.takeShared('ciba:request:x'),
      b.takeShared('ciba:request:x'),
      a.takeShared('ciba:request:x'),
      b.takeShared('ciba:request:x'),
    ])
    t.same(
      takes.filter((v) => v !== undefined),
      ['{"state":"approved"}'],
      'one take of four got it',
    )
    await a.putShared('ciba:request:short', 'x', 50)
    await new Promise((r) => setTimeout(r, 150)) // time passing: past the 50 ms TTL
    t.equal(await b.getShared('ciba:request:short'), undefined, 'expired after its TTL')
    await a.putShared('ciba:request:cas', 'pending', 60_000)
    const sets = await Promise.all([
      a.replaceShared('ciba:request:cas', 'pending', 'approved', 60_000),
      b.replaceShared('ciba:request:cas', 'pending', 'cancelled', 60_000),
    ])
    t.same(sets.filter(Boolean), [true], 'an outcome and a cancel at once: one compare-and-set wins')
    t.equal(await b.getShared('ciba:request:cas'), sets[0] ? 'approved' : 'cancelled', 'and its value is the one kept')
    t.equal(
      await a.replaceShared('ciba:request:none', 'pending', 'approved', 60_000),
      false,
      'nothing to replace: nothing written',
    )
    t.equal(await a.getShared('ciba:request:none'), undefined)
  },
)

t.test('a store not asked to report ends never sweeps: the end stays for the one that reports', async (t) => {
  // A cluster's worker: its store serves requests but reports no end (its primary audits them).
  // Were it to sweep, its ZREM would take the end and tell no one: an expiry never audited. Its
  // periodic work runs on intervals: each is run here at once, rather than waiting out its period.
  const periodic: Array<() => void> = []
  const realSetInterval = globalThis.setInterval
  globalThis.setInterval = ((fn: () => void, ms?: number) => {
    periodic.push(fn)
    return realSetInterval(fn, ms)
  }) as typeof setInterval
  t.teardown(() => {
    globalThis.setInterval = realSetInterval
  })
  const worker = await storeFor(t, 'quiet:')
  globalThis.setInterval = realSetInterval
  await worker.set('Q'.repeat(43), record({ ref: 'ref-quiet' }), 50)
  await new Promise((r) => setTimeout(r, 100)) // past the session's 50 ms
  t.ok(periodic.length > 0, 'the store has periodic work (its size count)')
  for (const run of periodic) run()
  // one connection answers in order: what the intervals sent is done once this answers
  await worker.get('Q'.repeat(43))

  const primary = await storeFor(t, 'quiet:')
  const ended: string[] = []
  primary.onEnded((e) => ended.push(`${e.ref} ${e.why}`), 100)
  await until('the end reported', async () => ended.length > 0, 10_000)
  t.same(ended, ['ref-quiet expired'], 'reported once, by the store that reports')
})
