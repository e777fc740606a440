// Keeps a session's PSC tokens usable: refreshes the 2-minute access token before it expires (for
// upstreams that receive it) and re-validates the PSC session at a set interval (refresh grant).
// One refresh per session at a time: in this process by sharing the promise, across replicas by a
// short lock in the session store; the others wait for the refreshed record.
import * as oidc from 'openid-client'
import type { AccountLookup, Identity } from '../psc/identity.js'
import type { SessionManager } from '../session/manager.js'
import { SessionStoreUnavailable, type SessionRecord } from '../session/store.js'
import { sessionReference } from '../session/ids.js'
import type { PscClient } from './psc-client.js'

/** Refresh this long before expiry, so a token never expires on its way to the upstream. */
const REFRESH_MARGIN_MS = 30_000
const LOCK_TTL_MS = 10_000
const WAIT_STEP_MS = 100
const WAIT_MAX_MS = 5_000

export type Freshness =
  /** `refreshed`: this call did the refresh (the others shared its result, or found it done) */
  | { kind: 'fresh'; record: SessionRecord; refreshed: boolean }
  /** PSC refused the refresh: the PSC session is over, ours must end */
  | { kind: 'revoked'; reason: string }
  /** PSC could not be asked (unreachable, slow): the caller decides what that means */
  | { kind: 'unavailable'; reason: string }

/** The local account, looked up again with the session (src/accounts/resolver.ts). */
export interface AccountRefresher {
  due(identity: Identity, now: number): boolean
  resolve(identity: Identity): Promise<AccountLookup>
}

export class TokenKeeper {
  readonly #inFlight = new Map<string, Promise<Freshness>>()

  constructor(
    private readonly psc: PscClient,
    private readonly sessions: SessionManager,
    private readonly revalidateEveryMs: number | undefined,
    private readonly now: () => number = Date.now,
    private readonly accounts?: AccountRefresher,
  ) {}

  /**
   * Whether this record needs a round trip to PSC (or to the account source) before the request
   * goes on. `needsAccount` false (the route has no account condition): the account is never
   * waited for; refreshAccountInBackground renews it for the next requests.
   */
  needsRefresh(record: SessionRecord, wantsAccessToken: boolean, needsAccount = true): boolean {
    const now = this.now()
    return (
      this.#tokensDue(record, wantsAccessToken, now) ||
      (needsAccount && this.accounts?.due(record.identity, now) === true)
    )
  }

  /**
   * When the account is due, looks it up without making anyone wait, and saves it in the session:
   * a slow or frozen directory must not delay a page that does not need the account (it travels
   * with the account the session holds). One lookup per session at a time.
   */
  refreshAccountInBackground(id: string, record: SessionRecord): void {
    if (this.accounts?.due(record.identity, this.now()) !== true) return
    const key = `${id}:account`
    if (this.#inFlight.has(key)) return
    const pending = this.#refreshAccount(id, record)
      .catch(
        (err: unknown): Freshness => ({
          kind: 'unavailable',
          reason: err instanceof Error ? err.message : String(err),
        }),
      )
      .finally(() => this.#inFlight.delete(key))
    this.#inFlight.set(key, pending)
  }

  #tokensDue(record: SessionRecord, wantsAccessToken: boolean, now: number): boolean {
    if (wantsAccessToken && record.accessTokenExpiresAt - now < REFRESH_MARGIN_MS) return true
    return (
      this.revalidateEveryMs !== undefined && now - (record.validatedAt ?? record.createdAt) >= this.revalidateEveryMs
    )
  }

  /**
   * `wantsAccessToken` (the upstream receives the access token) tells whether PSC must be asked;
   * when only the local account is due, PSC is not asked (undefined: PSC is always asked).
   */
  refresh(id: string, record: SessionRecord, wantsAccessToken?: boolean, needsAccount = true): Promise<Freshness> {
    const tokensDue =
      wantsAccessToken === undefined ||
      this.accounts === undefined ||
      this.#tokensDue(record, wantsAccessToken, this.now())
    const key = tokensDue ? id : `${id}:account`
    const shared = this.#inFlight.get(key)
    if (shared) return shared.then((r) => (r.kind === 'fresh' ? { ...r, refreshed: false } : r))
    const pending = (tokensDue ? this.#refreshOnce(id, record, needsAccount) : this.#refreshAccount(id, record))
      .catch(storeUnavailable)
      .finally(() => this.#inFlight.delete(key))
    this.#inFlight.set(key, pending)
    return pending
  }

  /** The local account alone; saved under the refresh lock so that it never writes back older tokens. */
  async #refreshAccount(id: string, record: SessionRecord): Promise<Freshness> {
    const account = await this.accounts!.resolve(record.identity)
    const updated: SessionRecord = { ...record, identity: { ...record.identity, account } }
    try {
      const release = await this.sessions.store.tryLock(`refresh:${sessionReference(id)}`, LOCK_TTL_MS)
      if (release) {
        try {
          const current = await this.sessions.store.get(id)
          if (!current) return { kind: 'revoked', reason: 'session ended during refresh' }
          const saved: SessionRecord = { ...current, identity: { ...current.identity, account } }
          await this.sessions.save(id, saved)
          return { kind: 'fresh', record: saved, refreshed: false }
        } finally {
          await release()
        }
      }
    } catch {
      // The store did not answer: this request goes on with the fresh account; the next one retries.
    }
    return { kind: 'fresh', record: updated, refreshed: false }
  }

  async #refreshOnce(id: string, record: SessionRecord, withAccount: boolean): Promise<Freshness> {
    const configuration = this.psc.configuration
    if (!configuration) return { kind: 'unavailable', reason: 'PSC unreachable' }
    if (!record.refreshToken) return { kind: 'revoked', reason: 'no refresh token' }
    const store = this.sessions.store
    const release = await store.tryLock(`refresh:${sessionReference(id)}`, LOCK_TTL_MS)
    if (!release) return this.#waitForOtherReplica(id, record)
    try {
      const tokens = await oidc.refreshTokenGrant(configuration, record.refreshToken)
      const now = this.now()
      const identity =
        withAccount && this.accounts?.due(record.identity, now) === true
          ? { ...record.identity, account: await this.accounts.resolve(record.identity) }
          : record.identity
      const updated: SessionRecord = {
        ...record,
        identity,
        accessToken: tokens.access_token,
        refreshToken: tokens.refresh_token ?? record.refreshToken,
        idToken: tokens.id_token ?? record.idToken,
        accessTokenExpiresAt: now + (tokens.expires_in ?? 120) * 1000,
        validatedAt: now,
      }
      await this.sessions.save(id, updated)
      return { kind: 'fresh', record: updated, refreshed: true }
    } catch (err) {
      if (err instanceof oidc.ResponseBodyError)
        return { kind: 'revoked', reason: `PSC refused the refresh: ${err.error}` }
      return { kind: 'unavailable', reason: err instanceof Error ? err.message : String(err) }
    } finally {
      await release()
    }
  }

  /** Another replica is refreshing this session: wait for its result in the store. */
  async #waitForOtherReplica(id: string, before: SessionRecord): Promise<Freshness> {
    for (let waited = 0; waited < WAIT_MAX_MS; waited += WAIT_STEP_MS) {
      await new Promise((r) => setTimeout(r, WAIT_STEP_MS))
      const current = await this.sessions.store.get(id)
      if (!current) return { kind: 'revoked', reason: 'session ended during refresh' }
      if (current.accessToken !== before.accessToken) return { kind: 'fresh', record: current, refreshed: false }
    }
    return { kind: 'unavailable', reason: 'timed out waiting for another replica to refresh' }
  }
}

/** The store stopped answering (taking the lock, or reading another replica's result): PSC was not asked. */
function storeUnavailable(err: unknown): Freshness {
  if (err instanceof SessionStoreUnavailable) return { kind: 'unavailable', reason: err.message }
  throw err
}
