import t from 'tap'
import { SessionManager } from '../../src/session/manager.js'
import { MemorySessionStore } from '../../src/session/memory-store.js'
import { remainingLifetimeMs, sessionState, touchIntervalMs } from '../../src/session/lifetime.js'
import { isWellFormedSessionId, newSessionId, sessionReference } from '../../src/session/ids.js'
import type { SessionRecord } from '../../src/session/store.js'

const MIN = 60_000
const timeouts = { idleTimeoutMs: 30 * MIN, absoluteTimeoutMs: 8 * 60 * MIN }
const fields = {
  identity: { sub: 's', idNat: '899700218896', familyName: 'A', givenName: 'B', acr: 'eidas1', exercices: [] },
  idToken: 'id', accessToken: 'at', accessTokenExpiresAt: 0
}

t.test('session ids are random, well-formed, and their reference does not reveal them', async (t) => {
  const ids = new Set(Array.from({ length: 1000 }, newSessionId))
  t.equal(ids.size, 1000)
  for (const id of ids) t.ok(isWellFormedSessionId(id))
  const id = newSessionId()
  t.notOk(sessionReference(id).includes(id.slice(0, 8)))
  t.equal(sessionReference(id), sessionReference(id))
  t.notOk(isWellFormedSessionId('short'))
  t.notOk(isWellFormedSessionId('A'.repeat(42) + '/'))
})

t.test('timeouts: idle, absolute, and the store TTL follows whichever comes first', async (t) => {
  const rec = { ...fields, createdAt: 0, lastSeenAt: 0 } as SessionRecord
  t.equal(sessionState(rec, 29 * MIN, timeouts), 'alive')
  t.equal(sessionState(rec, 30 * MIN, timeouts), 'idle-expired')
  t.equal(sessionState({ ...rec, lastSeenAt: 479 * MIN }, 480 * MIN, timeouts), 'absolute-expired')
  t.equal(remainingLifetimeMs(rec, 10 * MIN, timeouts), 20 * MIN)
  t.equal(remainingLifetimeMs({ ...rec, lastSeenAt: 470 * MIN }, 475 * MIN, timeouts), 5 * MIN)
  t.equal(touchIntervalMs(timeouts), 60_000)
  t.equal(touchIntervalMs({ idleTimeoutMs: 5 * MIN, absoluteTimeoutMs: 60 * MIN }), 30_000)
})

t.test('the manager creates, loads, keeps alive and ends sessions', async (t) => {
  let clock = 1_000_000
  const store = new MemorySessionStore(10)
  const sessions = new SessionManager(store, timeouts, () => clock)
  const { id } = await sessions.create(fields)
  t.equal((await sessions.load(id)).kind, 'alive')
  clock += 20 * MIN
  t.equal((await sessions.load(id)).kind, 'alive', 'touch at 20 min')
  clock += 20 * MIN
  t.equal((await sessions.load(id)).kind, 'alive', '40 min after creation, 20 after last use')
  clock += 31 * MIN
  t.same(await sessions.load(id), { kind: 'ended', why: 'idle-expired' })
  t.same(await sessions.load(id), { kind: 'none' }, 'an ended session is deleted')
  const other = await sessions.create(fields)
  await sessions.end(other.id)
  t.same(await sessions.load(other.id), { kind: 'none' })
})

t.test('the memory store is bounded: the least recently used session is evicted', async (t) => {
  const store = new MemorySessionStore(3)
  const rec = { ...fields, createdAt: Date.now(), lastSeenAt: Date.now() } as SessionRecord
  for (const id of ['a', 'b', 'c']) await store.set(id, rec, 60_000)
  await store.get('a')
  await store.set('d', rec, 60_000)
  t.equal(store.size(), 3)
  t.equal(await store.get('b'), undefined, 'b was least recently used')
  t.ok(await store.get('a'))
})
