// The CIBA abuse limits on the real stores: the memory store (one process) and Redis shared by two
// replicas (a practitioner's limit holds whichever replica the requests reach).
import t, { type Test } from 'tap'
import { CibaLimits } from '../../../src/oidc/ciba/push-limits.js'
import type { CibaSettings } from '../../../src/config/types.js'
import { MemorySessionStore } from '../../../src/session/memory-store.js'
import { RedisSessionStore } from '../../../src/session/redis-store.js'
import type { SessionStore } from '../../../src/session/store.js'
import { startRedis } from '../../helpers/redis.js'

const LIMITS: CibaSettings['limits'] = {
  perIdNat: { max: 2, windowMs: 60_000 },
  perClient: { max: 3, windowMs: 60_000 },
  cooldownAfterDenialMs: 400,
  maxPending: 10,
}

async function exercise(t: Test, replicas: [SessionStore, SessionStore]) {
  const [a, b] = replicas.map((s) => new CibaLimits(s, LIMITS))
  const first = await a!.admit('899700218896', '10.0.0.1')
  t.equal(first.ok, true)
  const whileWaiting = await b!.admit('899700218896', '10.0.0.2')
  t.same(
    whileWaiting,
    { ok: false, limit: 'pending', retryAfterSeconds: 30 },
    'one waiting push per practitioner, on any replica',
  )
  if (first.ok) await first.release()
  const second = await b!.admit('899700218896', '10.0.0.2')
  t.equal(second.ok, true)
  if (second.ok) await second.release()
  const third = await a!.admit('899700218896', '10.0.0.3')
  t.match(third, { ok: false, limit: 'per_idnat' }, 'perIdNat counted across replicas')
  t.ok(!third.ok && third.retryAfterSeconds > 0 && third.retryAfterSeconds <= 60)

  for (const idNat of ['899700367915', '899700555555']) {
    const r = await a!.admit(idNat, '10.0.0.9')
    t.equal(r.ok, true)
    if (r.ok) await r.release()
  }
  const r3 = await b!.admit('899700412345', '10.0.0.9')
  t.equal(r3.ok, true, 'third from this address')
  if (r3.ok) await r3.release()
  t.match(
    await a!.admit('0012345678', '10.0.0.9'),
    { ok: false, limit: 'per_client' },
    'perClient counted across replicas',
  )

  await b!.refused('899700999993')
  t.match(await a!.admit('899700999993', '10.0.0.5'), { ok: false, limit: 'cooldown' }, 'cool-down after a refusal')
  await new Promise((r) => setTimeout(r, 500)) // time passing: past cooldownAfterDenialMs (400)
  const after = await a!.admit('899700999993', '10.0.0.5')
  t.equal(after.ok, true, 'the cool-down ends')
}

t.test('memory store', async (t) => {
  const store = new MemorySessionStore(100)
  await exercise(t, [store, store])
})

t.test('Redis store shared by two replicas', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.close())
  const settings = { url: redis.url, keyPrefix: 'ciba-test:', commandTimeoutMs: 1000 }
  const stores: [RedisSessionStore, RedisSessionStore] = [
    new RedisSessionStore(settings),
    new RedisSessionStore(settings),
  ]
  t.teardown(async () => {
    for (const s of stores) await s.close()
  })
  for (const s of stores) await s.ready(5000)
  await exercise(t, stores)
})
