// With the memory store, reading a live session on a request needs no promise (no microtask on the
// request path); it takes one only when something is written back (a touch, an expired session).
import t from 'tap'
import { MemorySessionStore } from '../../src/session/memory-store.js'
import { SessionManager } from '../../src/session/manager.js'

const identity = {
  sub: 'f:1:899700218896',
  idNat: '899700218896',
  familyName: 'Martin',
  givenName: 'Zoé',
  acr: 'eidas1',
  authMode: 'CARD',
  exercices: [],
}

t.test('memory store: a live session loads without a promise, a touch or an expiry with one', async (t) => {
  let now = Date.UTC(2026, 10, 28, 12)
  const manager = new SessionManager(
    new MemorySessionStore(10),
    { idleTimeoutMs: 30 * 60_000, absoluteTimeoutMs: 8 * 3600_000 },
    () => now,
  )
  const { id, record } = await manager.create({
    identity,
    idToken: 'i',
    accessToken: 'a',
    accessTokenExpiresAt: now + 120_000,
  } as never)

  const at = manager.load(id)
  t.notOk(at instanceof Promise, 'read at once')
  t.same(at, { kind: 'alive', record })
  t.same(manager.load('x'.repeat(43)), { kind: 'none' }, 'an unknown id: at once too')

  now += 10 * 60_000
  const touching = manager.load(id)
  t.ok(touching instanceof Promise, 'a touch writes, so it waits for the store')
  const touched = await touching
  t.equal(touched.kind === 'alive' && touched.record.lastSeenAt, now)
  t.equal(record.lastSeenAt, Date.UTC(2026, 10, 28, 12), 'the record held before is not changed')

  now += 31 * 60_000
  const ending = manager.load(id)
  t.ok(ending instanceof Promise)
  t.same(
    await ending,
    { kind: 'ended', why: 'idle-expired', sessionDurationMs: 40 * 60_000 },
    'last use at 10 min + 30 min idle',
  )
  t.same(manager.load(id), { kind: 'none' }, 'and it is gone')
})
