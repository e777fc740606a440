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
  idToken: 'id',
  accessToken: 'at',
  accessTokenExpiresAt: 0,
  ref: 'r',
}

t.test('session ids are random, well-formed, and their reference does not reveal them', async (t) => {
  const ids = new Set(Array.from({ length: 1000 }, newSessionId))
  t.equal(ids.size, 1000)
  for (const id of ids) t.ok(isWellFormedSessionId(id))
  const id = newSessionId()
  t.notOk(sessionReference(id).includes(id.slice(0, 8)))
  t.equal(sessionReference(id), sessionReference(id))
  t.notOk(isWellFormedSessionId('short'))
  t.notOk(isWellFormedSessionId(`${'A'.repeat(42)}/`))
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
  t.same(
    await sessions.load(id),
    { kind: 'ended', why: 'idle-expired', sessionDurationMs: 70 * MIN },
    'ended at the last use (40 min) + the idle timeout (30 min)',
  )
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

t.test('memory store: shared values (CIBA state) expire, and a take hands a value over once', async (t) => {
  const store = new MemorySessionStore(10)
  await store.putShared('k', 'v1', 60_000)
  t.equal(await store.getShared('k'), 'v1')
  await store.putShared('k', 'v2', 60_000)
  t.equal(await store.getShared('k'), 'v2', 'a put replaces')
  t.equal(await store.takeShared('k'), 'v2', 'the first take gets it')
  t.equal(await store.takeShared('k'), undefined, 'the second does not')
  t.equal(await store.getShared('k'), undefined, 'and it is gone')
  await store.putShared('short', 'x', 20)
  await new Promise((r) => setTimeout(r, 60)) // time passing: past the 20 ms TTL
  t.equal(await store.getShared('short'), undefined, 'expired after its TTL')
  await store.putShared('cas', 'pending', 60_000)
  t.equal(
    await store.replaceShared('cas', 'other', 'approved', 60_000),
    false,
    'a compare-and-set against another value does nothing',
  )
  t.equal(await store.getShared('cas'), 'pending')
  t.equal(await store.replaceShared('cas', 'pending', 'approved', 60_000), true, 'against the value held, it replaces')
  t.equal(await store.getShared('cas'), 'approved')
  t.equal(
    await store.replaceShared('gone', 'pending', 'approved', 60_000),
    false,
    'nothing to replace: nothing written',
  )
  t.equal(await store.getShared('gone'), undefined)
})

t.test('memory store: back-channel indexes by sid and sub, one or several sessions each', async (t) => {
  const store = new MemorySessionStore(100)
  const rec = (sub: string, sid: string) =>
    ({
      ...fields,
      identity: { ...fields.identity, sub },
      pscSid: sid,
      createdAt: Date.now(),
      lastSeenAt: Date.now(),
    }) as SessionRecord
  await store.set('a1', rec('alice', 'sid-1'), 60_000)
  await store.set('a2', rec('alice', 'sid-2'), 60_000)
  await store.set('a3', rec('alice', 'sid-3'), 60_000)
  await store.set('b1', rec('bob', 'sid-4'), 60_000)
  await store.set('a1', rec('alice', 'sid-1'), 60_000) // a touch re-sets the same session
  t.equal(await store.deleteWhere({ sid: 'sid-2' }), 1)
  t.ok(await store.get('a1'))
  await store.delete('a3')
  t.equal(await store.deleteWhere({ sub: 'alice' }), 1, 'a1 is the only alice session left')
  t.ok(await store.get('b1'), 'other practitioners untouched')
  t.equal(await store.deleteWhere({ sub: 'alice' }), 0)
  t.equal(await store.rememberOnce('jti-1', 60_000), true)
  t.equal(await store.rememberOnce('jti-1', 60_000), false, 'a key is remembered once')
  const release = await store.tryLock('k', 60_000)
  t.ok(release)
  t.equal(await store.tryLock('k', 60_000), undefined, 'a held lock is refused')
  await release!()
  t.ok(await store.tryLock('k', 60_000), 'released')
})

t.test('memory store: sessions in the same structure share one copy of it', async (t) => {
  const store = new MemorySessionStore(100)
  const structure = () => ({ id: 'F750000001', name: 'Centre Hospitalier de Saint-Œuf', finess: '750000001' })
  const rec = (sub: string) =>
    ({
      ...fields,
      identity: {
        ...fields.identity,
        sub,
        exercices: [{ professionCode: '10', professionLabel: 'Médecin', structures: [structure()] }],
      },
      createdAt: Date.now(),
      lastSeenAt: Date.now(),
    }) as SessionRecord
  await store.set('x', rec('x'), 60_000)
  await store.set('y', rec('y'), 60_000)
  const sx = (await store.get('x'))!.identity.exercices[0]!.structures[0]
  const sy = (await store.get('y'))!.identity.exercices[0]!.structures[0]
  t.equal(sx, sy, 'one shared object')
  t.same(sx, structure(), 'with the same content')
  t.ok(Object.isFrozen(sx), 'frozen, so one session cannot change another')
})

t.test('verified cookies: a cookie is checked once, then recognised by its exact text', async (t) => {
  const { default: Fastify } = await import('fastify')
  const { default: fastifyCookie, sign } = await import('@fastify/cookie')
  const { VerifiedCookies } = await import('../../src/session/cookies.js')
  const NEW = 'n'.repeat(40)
  const OLD = 'o'.repeat(40)
  const app = Fastify()
  await app.register(fastifyCookie, { secret: [NEW, OLD] })
  const verified = new VerifiedCookies()
  let unsignCalls = 0
  app.addHook('onRequest', async (request) => {
    const original = request.unsignCookie.bind(request)
    request.unsignCookie = (v: string) => {
      unsignCalls++
      return original(v)
    }
  })
  app.get('/', async (request) => verified.read(request, 'psc_session'))
  const id = newSessionId()
  const ask = async (cookie: string) =>
    (await app.inject({ url: '/', headers: { cookie: `psc_session=${encodeURIComponent(cookie)}` } })).json()
  t.same(await ask(sign(id, NEW)), { kind: 'valid', id, signedWithOldSecret: false })
  t.same(await ask(sign(id, NEW)), { kind: 'valid', id, signedWithOldSecret: false })
  t.equal(unsignCalls, 1, 'the second request did not verify the signature again')
  t.same(
    await ask(sign(id, OLD)),
    { kind: 'valid', id, signedWithOldSecret: true },
    'an old-secret cookie is still flagged for renewal',
  )
  const tampered = sign(id, NEW).slice(0, -1) + (sign(id, NEW).endsWith('A') ? 'B' : 'A')
  t.match(await ask(tampered), { kind: 'invalid' }, 'another text is verified, and refused')
  t.match(await ask(tampered), { kind: 'invalid' }, 'refusals are not cached as valid')
  await app.close()
})
