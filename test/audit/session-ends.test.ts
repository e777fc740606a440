// Every session end is an event with its cause and duration, whichever store holds it, even when
// the practitioner never comes back (issue 13: with idleTimeout 4s, log in, wait: no event said the
// session ended). Real clock, real emulator login, real redis-server for the shared store.
import t from 'tap'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { verifyAuditFiles } from '../../src/audit/tools/verify.js'
import { auditSessionsLostAtShutdown } from '../../src/ops/audit-wiring.js'
import { MemorySessionStore } from '../../src/session/memory-store.js'
import { SessionManager, type SessionEnd } from '../../src/session/manager.js'
import type { SessionRecord } from '../../src/session/store.js'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { startRedis } from '../helpers/redis.js'
import { startStack } from '../helpers/stack.js'
import { until } from '../helpers/gateway-process.js'
import { startAuditStack } from './audit-stack.js'
import { assertAuditLines } from './schema-lines.js'

const MEDECIN = '899700218896'

type Ended = {
  event: string
  outcome?: string
  reason?: string
  sessionDurationMs?: number
  noticed?: string
  idNat?: string
  session?: string
}
const endsIn = (audit: object[]) => (audit as Ended[]).filter((e) => e.event === 'session' && e.outcome === 'ended')

t.test(
  'memory store: an idle session whose practitioner never comes back is audited as idle-expired, with its duration',
  async (t) => {
    const stack = await startStack({ idleTimeout: '2s', absoluteTimeout: '8h' })
    t.teardown(() => stack.close())
    const client = new BrowserLikeClient()
    const loggedIn = Date.now()
    await loginThroughEmulator(client, `${stack.url}/`, MEDECIN)
    t.same(endsIn(stack.audit), [], 'alive after login')
    await until('the session end to be audited', async () => endsIn(stack.audit).length > 0, 60_000)
    const [end] = endsIn(stack.audit)
    t.match(end, { reason: 'idle-expired', noticed: 'store', idNat: MEDECIN, session: /^[A-Za-z0-9_-]{16}$/ })
    t.ok(
      end!.sessionDurationMs! >= 2000 && end!.sessionDurationMs! <= Date.now() - loggedIn,
      `duration from login to the idle deadline (${end!.sessionDurationMs} ms)`,
    )
    // The practitioner comes back afterwards: asked to log in again, and no second end event.
    const back = await client.get(`${stack.url}/dossier`)
    t.equal(back.status, 302)
    t.equal(endsIn(stack.audit).length, 1, 'one end, not two')
    assertAuditLines(t, stack.audit)
  },
)

t.test('memory store: a session reaching its absolute timeout is audited as absolute-expired', async (t) => {
  // Both deadlines at 3 s: the absolute one is reached (the idle one would be too, at the same instant).
  const stack = await startStack({ idleTimeout: '3s', absoluteTimeout: '3s' })
  t.teardown(() => stack.close())
  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${stack.url}/`, MEDECIN)
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
    identity: {
      idNat,
      sub: idNat,
      exercices: [{ professionCode: '10', structures: [] }],
    } as unknown as SessionRecord['identity'],
    idToken: 'x',
    accessToken: 'y',
    accessTokenExpiresAt: now + 60_000,
  })
  const first = await manager.create(fields('811111111111'))
  now += 5000
  await manager.create(fields('822222222222'))
  t.same(ends, [
    { ref: first.record.ref, idNat: '811111111111', profession: '10', reason: 'store-lost', sessionDurationMs: 5000 },
  ])
  await store.close()
})

t.test(
  'memory store: sessions alive when the gateway stops are audited as store-lost, in the chained file before it closes',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-shutdown-'))
    const file = join(dir, 'audit.log')
    const KEY = 'session-ends-shutdown-key-0123456789abcdef'
    const stack = await startAuditStack({
      auditYaml: `audit:\n  stdout: false\n  file: ${file}\n  hmacKey: \${AUDIT_HMAC_KEY}\n`,
      env: { AUDIT_HMAC_KEY: KEY },
    })
    let closed = false
    t.teardown(() => (closed ? undefined : stack.close()))
    const client = new BrowserLikeClient()
    const loggedIn = Date.now()
    await loginThroughEmulator(client, `${stack.url}/`, MEDECIN)
    const afterLogin = Date.now()
    t.equal((await client.get(`${stack.url}/dossier`)).status, 200, 'logged in')
    await new Promise((r) => setTimeout(r, 300)) // time passing: the session has lasted a while when the shutdown ends it
    const stopping = Date.now()
    await stack.close()
    closed = true
    const stopped = Date.now()
    const events = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Ended & { outcome?: string })
    const login = events.find((e) => e.event === 'login' && e.outcome === 'succeeded')
    const ends = endsIn(events)
    t.equal(ends.length, 1, 'one end for the one live session')
    t.match(ends[0], { reason: 'store-lost', noticed: 'shutdown', idNat: MEDECIN, session: login?.session })
    t.ok(
      ends[0]!.sessionDurationMs! >= stopping - afterLogin && ends[0]!.sessionDurationMs! <= stopped - loggedIn,
      `duration from login to the stop (${ends[0]!.sessionDurationMs} ms)`,
    )
    const report = await verifyAuditFiles([file], Buffer.from(KEY))
    t.ok(report.ok, 'written into the chain before the file was closed: intact')
    t.equal(report.head?.line, events.length, 'the chain ends after it')
    assertAuditLines(t, events)
  },
)

t.test(
  'memory store at shutdown: at most N ends one by one, then one event counting the rest; expired ones keep their cause',
  async (t) => {
    const store = new MemorySessionStore(100)
    const now = 1_000_000
    const manager = new SessionManager(store, { idleTimeoutMs: 60_000, absoluteTimeoutMs: 3_600_000 }, () => now)
    const ended: SessionEnd[] = []
    manager.watchEnds((e) => ended.push(e))
    const fields = (idNat: string) => ({
      identity: {
        idNat,
        sub: idNat,
        exercices: [{ professionCode: '10', structures: [] }],
      } as unknown as SessionRecord['identity'],
      idToken: 'x',
      accessToken: 'y',
      accessTokenExpiresAt: now + 60_000,
    })
    for (let i = 0; i < 7; i++) await manager.create(fields(`81111111111${i}`))
    const emitted: Record<string, unknown>[] = []
    t.equal(auditSessionsLostAtShutdown(manager, { emit: (e) => emitted.push(e) }, 3), 7, 'all seven counted')
    t.equal(emitted.length, 4, 'three listed, one summary')
    t.ok(
      emitted
        .slice(0, 3)
        .every(
          (e) =>
            e.reason === 'store-lost' &&
            e.noticed === 'shutdown' &&
            typeof e.idNat === 'string' &&
            e.sessionDurationMs === 0,
        ),
    )
    t.same(emitted[3], {
      event: 'session',
      outcome: 'ended',
      reason: 'store-lost',
      noticed: 'shutdown',
      sessionsLost: 4,
    })
    assertAuditLines(
      t,
      emitted.map((e) => ({ v: 1, time: new Date(now).toISOString(), ...e })),
    )
    await store.close()
    // A store whose sessions have all timed out loses none: they ended by their timeout.
    const old = new MemorySessionStore(10)
    const oldManager = new SessionManager(old, { idleTimeoutMs: 50, absoluteTimeoutMs: 3_600_000 })
    oldManager.watchEnds((e) => ended.push(e))
    await oldManager.create(fields('822222222222'))
    await new Promise((r) => setTimeout(r, 120)) // time passing: past idleTimeoutMs (50)
    const none: unknown[] = []
    t.equal(auditSessionsLostAtShutdown(oldManager, { emit: (e) => none.push(e) }), 0)
    t.same(none, [])
    t.match(ended.at(-1), { idNat: '822222222222', reason: 'idle-expired' }, 'reported by its timeout instead')
    await old.close()
  },
)

t.test('Redis store, two replicas: an expired session is audited once, by one of them', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.close())
  const a = await startStack({ idleTimeout: '2s', absoluteTimeout: '8h', redisUrl: redis.url })
  let closed = false
  t.teardown(() => (closed ? undefined : a.close()))
  const b = await startStack({ idleTimeout: '2s', absoluteTimeout: '8h', redisUrl: redis.url })
  t.teardown(() => (closed ? undefined : b.close()))
  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${a.url}/`, MEDECIN)
  await until('the session end to be audited', async () => endsIn(a.audit).length + endsIn(b.audit).length > 0, 60_000)
  // Both replicas sweep: give the other time to report it too, if it were going to.
  await new Promise((r) => setTimeout(r, 2000))
  const all = [...endsIn(a.audit), ...endsIn(b.audit)]
  t.equal(all.length, 1, 'exactly one end event across the replicas')
  t.match(all[0], { reason: 'idle-expired', noticed: 'store', idNat: MEDECIN })
  t.ok(all[0]!.sessionDurationMs! >= 2000)
  // A session alive when both stop lives on in Redis: no store-lost at shutdown.
  await loginThroughEmulator(new BrowserLikeClient(), `${a.url}/`, MEDECIN)
  closed = true
  await a.close()
  await b.close()
  t.equal([...endsIn(a.audit), ...endsIn(b.audit)].length, 1, 'no end written at shutdown')
  assertAuditLines(t, [...a.audit, ...b.audit])
})
