// The local account is looked up again with the session (issue 17): when only the account is due,
// PSC is not asked (a refresh token past its 30 minutes must not end the session), the record is
// saved under the refresh lock from the store's current copy (never older tokens written back).
import t from 'tap'
import { TokenKeeper, type AccountRefresher } from '../../src/oidc/token-keeper.js'
import type { PscClient } from '../../src/oidc/psc-client.js'
import { SessionManager } from '../../src/session/manager.js'
import { MemorySessionStore } from '../../src/session/memory-store.js'
import type { AccountLookup, Identity } from '../../src/psc/identity.js'
import { until } from '../helpers/until.js'

const identity: Identity = {
  sub: 'f:x:899700218896',
  idNat: '899700218896',
  rpps: '99700218896',
  familyName: 'X',
  givenName: 'Y',
  acr: 'eidas1',
  exercices: [],
}

t.test("an account-only refresh does not ask PSC and keeps the store's newer tokens", async (t) => {
  let now = 1_000_000
  const sessions = new SessionManager(
    new MemorySessionStore(100),
    { idleTimeoutMs: 3_600_000, absoluteTimeoutMs: 8 * 3_600_000 },
    () => now,
  )
  let pscAsked = 0
  const psc = {
    get configuration() {
      pscAsked++
      return undefined
    },
  } as unknown as PscClient
  const lookups: Identity[] = []
  const accounts: AccountRefresher = {
    due: (id, at) =>
      id.account === undefined || (id.account.status === 'unavailable' && at - id.account.checkedAt >= 1000),
    resolve: async (id) => {
      lookups.push(id)
      return { status: 'found', login: 'edubois', groups: ['DPI'], checkedAt: now }
    },
  }
  const keeper = new TokenKeeper(psc, sessions, undefined, () => now, accounts)
  const unavailable: AccountLookup = { status: 'unavailable', reason: 'down', checkedAt: now }
  const { id, record } = await sessions.create({
    identity: { ...identity, account: unavailable },
    idToken: 'id',
    accessToken: 'old',
    refreshToken: 'r',
    accessTokenExpiresAt: now + 120_000,
  })
  t.equal(keeper.needsRefresh(record, false), false, 'not due before retryEvery')
  now += 1500
  t.equal(keeper.needsRefresh(record, false), true, 'due once retryEvery has passed')
  // meanwhile another request (or replica) renewed the tokens in the store
  await sessions.save(id, { ...record, accessToken: 'newer' })
  const fresh = await keeper.refresh(id, record, false)
  t.equal(pscAsked, 0, 'PSC was not asked')
  t.equal(lookups.length, 1)
  t.match(fresh, {
    kind: 'fresh',
    refreshed: false,
    record: { accessToken: 'newer', identity: { account: { status: 'found', login: 'edubois' } } },
  })
  const stored = sessions.store.get(id) as { accessToken: string; identity: Identity }
  t.equal(stored.accessToken, 'newer', 'the newer tokens were not overwritten')
  t.match(stored.identity.account, { status: 'found', login: 'edubois' }, 'the account is saved in the session')
  t.equal(keeper.needsRefresh(stored as never, false), false, 'found: not due again until refreshEvery')
})

t.test('a route that needs no account never waits for it: the lookup runs aside and the session gets it', async (t) => {
  const now = 1_000_000
  const sessions = new SessionManager(
    new MemorySessionStore(100),
    { idleTimeoutMs: 3_600_000, absoluteTimeoutMs: 8 * 3_600_000 },
    () => now,
  )
  let answer: (a: AccountLookup) => void = () => {}
  let lookups = 0
  const accounts: AccountRefresher = {
    due: (id) => id.account?.status !== 'found',
    resolve: () => {
      lookups++
      return new Promise<AccountLookup>((resolve) => {
        answer = resolve
      })
    }, // a directory that takes its time
  }
  const keeper = new TokenKeeper(
    { configuration: undefined } as unknown as PscClient,
    sessions,
    undefined,
    () => now,
    accounts,
  )
  const { id, record } = await sessions.create({
    identity: { ...identity, account: { status: 'unavailable', reason: 'down', checkedAt: 0 } },
    idToken: 'id',
    accessToken: 'a',
    refreshToken: 'r',
    accessTokenExpiresAt: now + 120_000,
  })
  t.equal(keeper.needsRefresh(record, false, false), false, 'nothing to wait for on a route without account conditions')
  t.equal(keeper.needsRefresh(record, false), true, 'a route with account conditions waits for it')
  keeper.refreshAccountInBackground(id, record)
  keeper.refreshAccountInBackground(id, record)
  t.equal(lookups, 1, 'one lookup per session at a time')
  answer({ status: 'found', login: 'edubois', groups: [], checkedAt: now })
  await until(
    'the account saved in the session',
    async () => (sessions.store.get(id) as { identity: Identity }).identity.account?.status === 'found',
    5_000,
    5,
  )
  t.match(
    (sessions.store.get(id) as { identity: Identity }).identity.account,
    { status: 'found', login: 'edubois' },
    'saved in the session for the next requests',
  )
})
