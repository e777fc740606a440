// Every session end is an event with its cause and duration, whichever store holds it, even when
// the practitioner never comes back (issue 13: with idleTimeout 4s, log in, wait: no event said the
// session ended). Real clock, real emulator login, real redis-server for the shared store.
import t from 'tap'
import { MemorySessionStore } from '../../src/session/memory-store.js'
import { SessionManager, type SessionEnd } from '../../src/session/manager.js'
import type { SessionRecord } from '../../src/session/store.js'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { startRedis } from '../helpers/redis.js'
import { startStack } from '../helpers/stack.js'
import { until } from '../helpers/gateway-process.js'
import { assertAuditLines } from './schema-lines.js'

const MEDECIN = '899700218896'

type Ended = { event: string; outcome?: string; reason?: string; sessionDurationMs?: number; noticed?: string; idNat?: string; session?: string }
const endsIn = (audit: object[]) => (audit as Ended[]).filter((e) => e.event === 'session' && e.outcome === 'ended')

t.test('memory store: an idle session whose practitioner never comes back is audited as idle-expired, with its duration', async (t) => {
  const stack = await startStack({ idleTimeout: '2s', absoluteTimeout: '8h' })
  t.teardown(() => stack.close())
  const client = new BrowserLikeClient()
  const loggedIn = Date.now()
  await loginThroughEmulator(client, stack.url + '/', MEDECIN)
  t.same(endsIn(stack.audit), [], 'alive after login')
  await until('the session end to be audited', async () => endsIn(stack.audit).length > 0, 60_000)
  const [end] = endsIn(stack.audit)
  t.match(end, { reason: 'idle-expired', noticed: 'store', idNat: MEDECIN, session: /^[A-Za-z0-9_-]{16}$/ })
  t.ok(end!.sessionDurationMs! >= 2000 && end!.sessionDurationMs! <= Date.now() - loggedIn, `duration from login to the idle deadline (${end!.sessionDurationMs} ms)`)
  // The practitioner comes back afterwards: asked to log in again, and no second end event.
  const back = await client.get(`${stack.url}/dossier`)
  t.equal(back.status, 302)
  t.equal(endsIn(stack.audit).length, 1, 'one end, not two')
  assertAuditLines(t, stack.audit)
})

t.test('memory store: a session reaching its absolute timeout is audited as absolute-expired', async (t) => {
  // Both deadlines at 3 s: the absolute one is reached (the idle one would be too, at the same instant).
  const stack = await startStack({ idleTimeout: '3s', absoluteTimeout: '3s' })
  t.teardown(() => stack.close())
  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, stack.url + '/', MEDECIN)
  await until('the session end to be audited', async () => endsIn(stack.audit).length > 0, 60_000)
  t.match(endsIn(stack.audit)[0], { reason: 'absolute-expired', noticed: 'store', sessionDurationMs: 3000 })
})

t.test('memory store: a session evicted to make room is audited as store-lost', async (t) => {
  const store = new MemorySessionStore(1)
  const ends: SessionEnd[] = []
  let now = 1_000_000
  const manager = new SessionManager(store, { idleTimeoutMs: 60_000, absoluteTimeoutMs: 3_600_000 }, () => now)
  manager.watchEnds((e) => ends.push(e))
  const fields = (idNat: string) => ({
    identity: { idNat, sub: idNat, exercices: [{ professionCode: '10', structures: [] }] } as unknown as SessionRecord['identity'],
    idToken: 'x', accessToken: 'y', accessTokenExpiresAt: now + 60_000
  })
  const first = await manager.create(fields('811111111111'))
  now += 5000
  await manager.create(fields('822222222222'))
  t.same(ends, [{ ref: first.record.ref, idNat: '811111111111', profession: '10', reason: 'store-lost', sessionDurationMs: 5000 }])
  await store.close()
})

t.test('Redis store, two replicas: an expired session is audited once, by one of them', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.close())
  const a = await startStack({ idleTimeout: '2s', absoluteTimeout: '8h', redisUrl: redis.url })
  t.teardown(() => a.close())
  const b = await startStack({ idleTimeout: '2s', absoluteTimeout: '8h', redisUrl: redis.url })
  t.teardown(() => b.close())
  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, a.url + '/', MEDECIN)
  await until('the session end to be audited', async () => endsIn(a.audit).length + endsIn(b.audit).length > 0, 60_000)
  // Both replicas sweep: give the other time to report it too, if it were going to.
  await new Promise((r) => setTimeout(r, 2000))
  const all = [...endsIn(a.audit), ...endsIn(b.audit)]
  t.equal(all.length, 1, 'exactly one end event across the replicas')
  t.match(all[0], { reason: 'idle-expired', noticed: 'store', idNat: MEDECIN })
  t.ok(all[0]!.sessionDurationMs! >= 2000)
  assertAuditLines(t, [...a.audit, ...b.audit])
})
