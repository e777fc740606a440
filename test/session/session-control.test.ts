// The stores' practitioner index and the security team's operations on it, run alike on the memory
// store and on a real redis-server: list (all, or one practitioner's), revoke by reference or by
// practitioner, one session per practitioner, and no write-back of a revoked session.
import t, { type Test } from 'tap'
import { SessionManager } from '../../src/session/manager.js'
import { MemorySessionStore } from '../../src/session/memory-store.js'
import { RedisSessionStore } from '../../src/session/redis-store.js'
import type { SessionStore } from '../../src/session/store.js'
import { startRedis } from '../helpers/redis.js'
import { doctor, sessionFields } from '../helpers/unit.js'

const redis = await startRedis()
t.teardown(() => redis.close())

const TIMEOUTS = { idleTimeoutMs: 30 * 60_000, absoluteTimeoutMs: 8 * 3600_000 }
const pharmacist = () => ({
  ...doctor(),
  sub: 'f:9f:810000000002',
  idNat: '810000000002',
  rpps: '10000000002',
  familyName: 'Durand',
  givenName: 'Paul',
})

let prefixes = 0
const stores: Array<[string, (t: Test) => Promise<SessionStore>]> = [
  ['memory', async () => new MemorySessionStore(1000)],
  [
    'redis',
    async (t) => {
      const store = new RedisSessionStore({
        url: redis.url,
        keyPrefix: `control${++prefixes}:`,
        commandTimeoutMs: 2000,
      })
      t.teardown(() => store.close())
      await store.ready(5000)
      return store
    },
  ],
]

for (const [kind, open] of stores) {
  t.test(`${kind}: list by practitioner, revoke by reference and by practitioner`, async (t) => {
    const sessions = new SessionManager(await open(t), TIMEOUTS)
    const login = { method: 'redirect', client: '192.0.2.7' }
    const a1 = await sessions.create({ ...sessionFields(), login })
    const a2 = await sessions.create({ ...sessionFields(), login: { method: 'ciba', client: '192.0.2.8' } })
    const b = await sessions.create({ ...sessionFields(pharmacist()), login })

    const all = await sessions.list()
    t.equal(all.length, 3, 'every live session is listed')
    const mine = await sessions.list({ idNat: '810000000001' })
    t.same(mine.map((s) => s.ref).sort(), [a1.record.ref, a2.record.ref].sort(), "one practitioner's sessions only")
    const shown = mine.find((s) => s.ref === a2.record.ref)
    t.match(shown, {
      idNat: '810000000001',
      rpps: '10000000001',
      familyName: 'Lefèvre',
      givenName: 'Jeanne',
      loginMethod: 'ciba',
      loginClient: '192.0.2.8',
    })
    t.notMatch(JSON.stringify(all), /token|sid-1/, 'a summary holds no token nor PSC sid')
    t.notOk(JSON.stringify(all).includes(a1.id), 'nor a session id')

    const one = await sessions.revoke({ ref: a1.record.ref })
    t.same(
      one.map((s) => s.ref),
      [a1.record.ref],
    )
    t.equal(await sessions.store.get(a1.id), undefined, 'the revoked session reads back as none')
    t.not(await sessions.store.get(a2.id), undefined, "the practitioner's other session lives on")
    t.same(await sessions.revoke({ ref: a1.record.ref }), [], 'revoking it again ends nothing')

    const practitioner = await sessions.revoke({ idNat: '810000000001' })
    t.same(
      practitioner.map((s) => s.ref),
      [a2.record.ref],
    )
    t.equal(await sessions.store.get(a2.id), undefined)
    t.same(await sessions.list({ idNat: '810000000001' }), [], 'the index holds nothing live for them')
    t.same(
      (await sessions.list()).map((s) => s.ref),
      [b.record.ref],
      'the other practitioner keeps their session',
    )
  })

  t.test(`${kind}: a revoked session is never written back by a touch or a token refresh`, async (t) => {
    let now = Date.now()
    const sessions = new SessionManager(await open(t), TIMEOUTS, () => now)
    const { id, record } = await sessions.create(sessionFields())
    await sessions.revoke({ ref: record.ref })
    await sessions.save(id, { ...record, accessToken: 'refreshed' })
    t.equal(await sessions.store.get(id), undefined, 'save after revocation writes nothing')
    t.equal(await sessions.store.update(id, record, 60_000), false)
    t.same(await sessions.list(), [], 'nor does it come back in the list')

    // A request due for a touch after the revocation finds no session.
    const alive = await sessions.create(sessionFields())
    now += 10 * 60_000
    await sessions.revoke({ ref: alive.record.ref })
    t.same(await sessions.load(alive.id, { client: '192.0.2.9', route: '/dpi' }), { kind: 'none' })
    t.equal(await sessions.store.get(alive.id), undefined)
  })

  t.test(`${kind}: a touch records the client and the path of the last request`, async (t) => {
    let now = Date.now()
    const sessions = new SessionManager(await open(t), TIMEOUTS, () => now)
    const { id } = await sessions.create({ ...sessionFields(), login: { method: 'redirect', client: '192.0.2.7' } })
    now += 10 * 60_000
    const loaded = await sessions.load(id, { client: '192.0.2.99', route: '/dpi/patients' })
    t.equal(loaded.kind, 'alive')
    const [shown] = await sessions.list({ idNat: '810000000001' })
    t.match(shown, { lastClient: '192.0.2.99', lastRoute: '/dpi/patients', loginClient: '192.0.2.7', lastSeenAt: now })
  })

  t.test(`${kind}: onePerPractitioner ends the older sessions at login`, async (t) => {
    const sessions = new SessionManager(await open(t), { ...TIMEOUTS, onePerPractitioner: true })
    const first = await sessions.create(sessionFields())
    const other = await sessions.create(sessionFields(pharmacist()))
    const second = await sessions.create(sessionFields())
    t.same(
      second.superseded.map((s) => s.ref),
      [first.record.ref],
      'the new login reports the session it ended',
    )
    t.equal(await sessions.store.get(first.id), undefined, 'the older session is over')
    t.not(await sessions.store.get(second.id), undefined, 'the new one lives')
    t.not(await sessions.store.get(other.id), undefined, "another practitioner's session is untouched")
    t.same(other.superseded, [])

    const plain = new SessionManager(await open(t), TIMEOUTS)
    await plain.create(sessionFields())
    t.same((await plain.create(sessionFields())).superseded, [], 'off by default')
    t.equal((await plain.list({ idNat: '810000000001' })).length, 2)
  })

  t.test(`${kind}: one reference among many ends exactly that session`, async (t) => {
    const sessions = new SessionManager(await open(t), TIMEOUTS)
    const created = []
    for (let i = 0; i < 400; i++)
      created.push(await sessions.create(sessionFields({ ...doctor(), idNat: `8100000${String(i).padStart(5, '0')}` })))
    const target = created[237]!
    t.same(
      (await sessions.revoke({ ref: target.record.ref })).map((s) => s.ref),
      [target.record.ref],
    )
    t.equal(await sessions.store.get(target.id), undefined)
    t.equal((await sessions.list()).length, 399, 'every other session lives on')
    t.same(await sessions.revoke({ ref: target.record.ref.slice(0, 4) }), [], 'a prefix of a reference ends nothing')
    t.same(await sessions.revoke({ ref: '*' }), [], 'nor a pattern')
  })

  t.test(`${kind}: an expired session leaves the list`, async (t) => {
    const store = await open(t)
    const sessions = new SessionManager(store, TIMEOUTS)
    const { id, record } = await sessions.create(sessionFields())
    await store.set(id, record, 50)
    await new Promise((resolve) => setTimeout(resolve, 120))
    t.same(await sessions.list(), [])
    t.same(await sessions.list({ idNat: record.identity.idNat }), [])
  })
}

t.test('a back-channel logout takes the sessions it ends out of the list, on both stores', async (t) => {
  for (const [kind, open] of stores) {
    const sessions = new SessionManager(await open(t), TIMEOUTS)
    await sessions.create(sessionFields(doctor(), { pscSid: 'sid-a' }))
    const kept = await sessions.create(sessionFields(pharmacist(), { pscSid: 'sid-b' }))
    t.equal(await sessions.store.deleteWhere({ sid: 'sid-a' }), 1, kind)
    t.same(await sessions.list({ idNat: '810000000001' }), [], `${kind}: not listed any more`)
    t.same(
      (await sessions.list()).map((s) => s.ref),
      [kept.record.ref],
      `${kind}: the others are`,
    )
    t.same(await sessions.revoke({ idNat: '810000000001' }), [], `${kind}: nothing left to revoke`)
  }
})
