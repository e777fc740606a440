// TokenKeeper: when a session's tokens need PSC, one refresh per session (shared in the process,
// locked across replicas through the session store), and what PSC's answers mean. PSC's token
// endpoint is a fetch function given to a real openid-client Configuration: no network.
import * as oidc from 'openid-client'
import t from 'tap'
import type { PscClient } from '../../src/oidc/psc-client.js'
import { TokenKeeper } from '../../src/oidc/token-keeper.js'
import { sessionReference } from '../../src/session/ids.js'
import { SessionManager } from '../../src/session/manager.js'
import { MemorySessionStore } from '../../src/session/memory-store.js'
import { SessionStoreUnavailable, type SessionRecord } from '../../src/session/store.js'
import { doctor, sessionFields } from '../helpers/unit.js'

const TIMEOUTS = { idleTimeoutMs: 30 * 60_000, absoluteTimeoutMs: 8 * 3600_000 }
const TOKEN_ENDPOINT = 'https://psc.test/token'

interface FakePsc {
  psc: PscClient
  /** bodies of the token requests received */
  calls: URLSearchParams[]
}

/** A PSC whose token endpoint answers `answer` (after `delayMs`), through openid-client's customFetch. */
function fakePsc(answer: () => Response | Promise<Response>, delayMs = 0): FakePsc {
  const configuration = new oidc.Configuration(
    { issuer: 'https://psc.test', token_endpoint: TOKEN_ENDPOINT },
    'unit-client',
    'unit-secret',
  )
  const calls: URLSearchParams[] = []
  configuration[oidc.customFetch] = async (url: string, init: oidc.CustomFetchOptions) => {
    if (url !== TOKEN_ENDPOINT) throw new Error(`unexpected call to ${url}`)
    calls.push(new URLSearchParams(String(init.body)))
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs))
    return answer()
  }
  return { psc: { configuration } as unknown as PscClient, calls }
}

const tokens =
  (n: number, extra: object = {}) =>
  () =>
    new Response(
      JSON.stringify({
        access_token: `access-token-${n}`,
        token_type: 'Bearer',
        expires_in: 120,
        refresh_token: `refresh-token-${n}`,
        ...extra,
      }),
      { status: 200, headers: { 'content-type': 'application/json' } },
    )

async function session(
  sessions: SessionManager,
  over: Partial<SessionRecord> = {},
): Promise<{ id: string; record: SessionRecord }> {
  return sessions.create(sessionFields(doctor(), over))
}

t.test('needsRefresh: the access token 30 s before it expires, only for upstreams that receive it', async (t) => {
  const now = 1_000_000_000
  const keeper = new TokenKeeper(
    { configuration: undefined } as unknown as PscClient,
    new SessionManager(new MemorySessionStore(10), TIMEOUTS, () => now),
    undefined,
    () => now,
  )
  const record = (expiresIn: number) =>
    ({
      ...sessionFields(),
      accessTokenExpiresAt: now + expiresIn,
      createdAt: now,
      lastSeenAt: now,
      validatedAt: now,
      ref: 'r',
    }) as SessionRecord
  t.equal(keeper.needsRefresh(record(30_001), true), false, '30.001 s left: not yet')
  t.equal(keeper.needsRefresh(record(30_000), true), false, 'exactly 30 s left: not yet')
  t.equal(keeper.needsRefresh(record(29_999), true), true, '29.999 s left: refresh')
  t.equal(keeper.needsRefresh(record(-5_000), true), true, 'expired: refresh')
  t.equal(keeper.needsRefresh(record(-5_000), false), false, 'an upstream without the token never waits for it')
})

t.test('needsRefresh: re-validation at the configured interval, from validatedAt (else createdAt)', async (t) => {
  const now = 1_000_000_000
  const keeper = new TokenKeeper(
    { configuration: undefined } as unknown as PscClient,
    new SessionManager(new MemorySessionStore(10), TIMEOUTS, () => now),
    600_000,
    () => now,
  )
  const base = {
    ...sessionFields(),
    accessTokenExpiresAt: now + 120_000,
    createdAt: now - 3_600_000,
    lastSeenAt: now,
    ref: 'r',
  } as SessionRecord
  t.equal(keeper.needsRefresh({ ...base, validatedAt: now - 599_999 }, false), false)
  t.equal(keeper.needsRefresh({ ...base, validatedAt: now - 600_000 }, false), true)
  t.equal(
    keeper.needsRefresh({ ...base, validatedAt: undefined }, false),
    true,
    'no validatedAt: counted from createdAt (1 h ago)',
  )
  t.equal(keeper.needsRefresh({ ...base, validatedAt: undefined, createdAt: now - 1000 }, false), false)
})

t.test('refresh: PSC answers → fresh record, saved in the store, refresh token rotated', async (t) => {
  let now = Date.now()
  const sessions = new SessionManager(new MemorySessionStore(10), TIMEOUTS, () => now)
  const { psc, calls } = fakePsc(tokens(2))
  const keeper = new TokenKeeper(psc, sessions, undefined, () => now)
  const { id, record } = await session(sessions)
  now += 60_000
  const got = await keeper.refresh(id, record)
  t.equal(got.kind, 'fresh')
  if (got.kind !== 'fresh') return
  t.equal(got.refreshed, true)
  t.equal(got.record.accessToken, 'access-token-2')
  t.equal(got.record.refreshToken, 'refresh-token-2')
  t.equal(got.record.accessTokenExpiresAt, now + 120_000)
  t.equal(got.record.validatedAt, now)
  t.equal(got.record.idToken, 'id-token-1', 'no new ID token: the old one is kept')
  t.equal(calls.length, 1)
  t.equal(calls[0]?.get('grant_type'), 'refresh_token')
  t.equal(calls[0]?.get('refresh_token'), 'refresh-token-1')
  t.equal(
    (sessions.store.get(id) as SessionRecord | undefined)?.accessToken,
    'access-token-2',
    'written back to the store',
  )
})

t.test('concurrent refreshes of one session: one call to PSC, the promise shared', async (t) => {
  const sessions = new SessionManager(new MemorySessionStore(10), TIMEOUTS)
  const { psc, calls } = fakePsc(tokens(2), 50)
  const keeper = new TokenKeeper(psc, sessions, undefined)
  const { id, record } = await session(sessions)
  const [a, b, c] = await Promise.all([
    keeper.refresh(id, record),
    keeper.refresh(id, record),
    keeper.refresh(id, record),
  ])
  t.equal(calls.length, 1, 'one token request')
  t.match(a, { kind: 'fresh', refreshed: true, record: { accessToken: 'access-token-2' } })
  t.match(b, { kind: 'fresh', refreshed: false, record: { accessToken: 'access-token-2' } })
  t.match(c, { kind: 'fresh', refreshed: false, record: { accessToken: 'access-token-2' } })
  // Once done, the next refresh asks PSC again (nothing stays in flight).
  await keeper.refresh(id, (a as { record: SessionRecord }).record)
  t.equal(calls.length, 2)
  t.equal(calls[1]?.get('refresh_token'), 'refresh-token-2')
})

t.test('no refresh token: revoked, PSC not asked', async (t) => {
  const sessions = new SessionManager(new MemorySessionStore(10), TIMEOUTS)
  const { psc, calls } = fakePsc(tokens(2))
  const { id, record } = await session(sessions, { refreshToken: undefined })
  t.same(await new TokenKeeper(psc, sessions, undefined).refresh(id, record), {
    kind: 'revoked',
    reason: 'no refresh token',
  })
  t.equal(calls.length, 0)
})

t.test('PSC not configured (discovery not loaded): unavailable', async (t) => {
  const sessions = new SessionManager(new MemorySessionStore(10), TIMEOUTS)
  const { id, record } = await session(sessions)
  t.same(
    await new TokenKeeper({ configuration: undefined } as unknown as PscClient, sessions, undefined).refresh(
      id,
      record,
    ),
    { kind: 'unavailable', reason: 'PSC unreachable' },
  )
})

t.test("PSC refuses the refresh (invalid_grant): revoked, with PSC's error; the lock is released", async (t) => {
  const store = new MemorySessionStore(10)
  const sessions = new SessionManager(store, TIMEOUTS)
  const { psc } = fakePsc(
    () =>
      new Response(JSON.stringify({ error: 'invalid_grant', error_description: 'session ended' }), {
        status: 400,
        headers: { 'content-type': 'application/json' },
      }),
  )
  const { id, record } = await session(sessions)
  t.same(await new TokenKeeper(psc, sessions, undefined).refresh(id, record), {
    kind: 'revoked',
    reason: 'PSC refused the refresh: invalid_grant',
  })
  const lock = await store.tryLock(`refresh:${sessionReference(id)}`, 1000)
  t.type(lock, 'function', 'the lock was released')
  t.equal(store.get(id)?.accessToken, 'access-token-1', 'record untouched')
})

t.test('PSC unreachable during the refresh: unavailable, with the error', async (t) => {
  const sessions = new SessionManager(new MemorySessionStore(10), TIMEOUTS)
  const { psc } = fakePsc(() => {
    throw new TypeError('fetch failed')
  })
  const { id, record } = await session(sessions)
  t.same(await new TokenKeeper(psc, sessions, undefined).refresh(id, record), {
    kind: 'unavailable',
    reason: 'fetch failed',
  })
})

t.test('two replicas on one store: one refreshes, the other waits for its result in the store', async (t) => {
  const store = new MemorySessionStore(10)
  const sessionsA = new SessionManager(store, TIMEOUTS)
  const sessionsB = new SessionManager(store, TIMEOUTS)
  const pscA = fakePsc(tokens(2), 250)
  const pscB = fakePsc(tokens(3), 250)
  const a = new TokenKeeper(pscA.psc, sessionsA, undefined)
  const b = new TokenKeeper(pscB.psc, sessionsB, undefined)
  const { id, record } = await session(sessionsA)
  const first = a.refresh(id, record)
  await new Promise((r) => setImmediate(r)) // A holds the lock
  const [ra, rb] = await Promise.all([first, b.refresh(id, record)])
  t.equal(pscA.calls.length + pscB.calls.length, 1, 'one token request across both replicas')
  t.equal(pscB.calls.length, 0)
  t.match(ra, { kind: 'fresh', refreshed: true, record: { accessToken: 'access-token-2' } })
  t.match(rb, {
    kind: 'fresh',
    refreshed: false,
    record: { accessToken: 'access-token-2', refreshToken: 'refresh-token-2' },
  })
})

t.test('another replica holds the lock and the session ends meanwhile: revoked', async (t) => {
  const store = new MemorySessionStore(10)
  const sessions = new SessionManager(store, TIMEOUTS)
  const { psc, calls } = fakePsc(tokens(2))
  const { id, record } = await session(sessions)
  const release = await store.tryLock(`refresh:${sessionReference(id)}`, 10_000)
  t.ok(release)
  const pending = new TokenKeeper(psc, sessions, undefined).refresh(id, record)
  await store.delete(id)
  t.same(await pending, { kind: 'revoked', reason: 'session ended during refresh' })
  t.equal(calls.length, 0)
})

t.test('another replica holds the lock and never finishes: unavailable after the wait', async (t) => {
  const store = new MemorySessionStore(10)
  const sessions = new SessionManager(store, TIMEOUTS)
  const { psc, calls } = fakePsc(tokens(2))
  const { id, record } = await session(sessions)
  await store.tryLock(`refresh:${sessionReference(id)}`, 60_000)
  const started = Date.now()
  t.same(await new TokenKeeper(psc, sessions, undefined).refresh(id, record), {
    kind: 'unavailable',
    reason: 'timed out waiting for another replica to refresh',
  })
  t.ok(Date.now() - started >= 4_900, 'waited about 5 s')
  t.equal(calls.length, 0)
})

t.test('session store down when the refresh lock is taken: unavailable, not a rejected promise', async (t) => {
  const store = new MemorySessionStore(10)
  const sessions = new SessionManager(store, TIMEOUTS)
  const { psc, calls } = fakePsc(tokens(2))
  const { id, record } = await session(sessions)
  store.tryLock = async () => {
    throw new SessionStoreUnavailable('connection refused (test)')
  }
  t.same(await new TokenKeeper(psc, sessions, undefined).refresh(id, record), {
    kind: 'unavailable',
    reason: 'session store unavailable: connection refused (test)',
  })
  t.equal(calls.length, 0)
})

t.test('session store down while waiting for another replica: unavailable', async (t) => {
  const store = new MemorySessionStore(10)
  const sessions = new SessionManager(store, TIMEOUTS)
  const { psc } = fakePsc(tokens(2))
  const { id, record } = await session(sessions)
  await store.tryLock(`refresh:${sessionReference(id)}`, 60_000)
  store.get = () => {
    throw new SessionStoreUnavailable('connection refused (test)')
  }
  t.same(await new TokenKeeper(psc, sessions, undefined).refresh(id, record), {
    kind: 'unavailable',
    reason: 'session store unavailable: connection refused (test)',
  })
})
