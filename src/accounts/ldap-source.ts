// Local accounts from an LDAP directory or Active Directory: one search per practitioner by the
// attribute that holds the RPPS or idNat, the login, display name and groups (memberOf; with
// Active Directory, nested groups too). Answers are cached (lru-cache) for cacheTtl; while the
// directory is down, cached answers are used up to staleLimit and the others are "unavailable".
import type { Client } from 'ldapts'
import { LRUCache } from 'lru-cache'
import type { LdapSettings } from '../config/types.js'
import type { AccountLookup, Identity } from '../psc/identity.js'
import { LdapPool, withDeadline, DirectoryTimeout } from './ldap-pool.js'
import { escapeFilterValue, filterFor, firstRdnValue } from './ldap-text.js'
import type { AccountSource, SourceHealth } from './source.js'

/** Active Directory's LDAP_MATCHING_RULE_IN_CHAIN: membership through nested groups. */
const IN_CHAIN = '1.2.840.113556.1.4.1941'

type Answer =
  | { status: 'found'; login: string; displayName?: string; groups: string[] }
  | { status: 'none' | 'duplicate' | 'disabled' }
interface Cached {
  answer: Answer
  at: number
}

export type LookupOutcome = 'found' | 'none' | 'duplicate' | 'disabled' | 'cached' | 'stale' | 'unavailable'

/** Active Directory's userAccountControl flag ACCOUNTDISABLE. */
const ACCOUNTDISABLE = 0x2
/**
 * Asked with every search. An entry that carries it is an Active Directory account (OpenLDAP and
 * other directories have no such attribute, and an attribute the schema lacks is simply not
 * returned), so a disabled account is refused with no setting to remember.
 */
const USER_ACCOUNT_CONTROL = 'userAccountControl'

export interface LdapSourceOptions {
  now?: () => number
  /** each lookup's outcome, for the metrics */
  observe?: (outcome: LookupOutcome) => void
  /** the directory failed or came back (for the log) */
  onStatus?: (up: boolean, reason?: string) => void
  /** the directory's data is wrong for one practitioner (two entries): for the log, with the filter */
  onDataProblem?: (message: string) => void
}

const text = (v: unknown): string | undefined => {
  const first = Array.isArray(v) ? v[0] : v
  if (first === undefined) return undefined
  const s = Buffer.isBuffer(first) ? first.toString('utf8') : String(first)
  return s === '' ? undefined : s
}
const texts = (v: unknown): string[] =>
  v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x)))

export function describeDirectoryError(err: unknown): string {
  if (err instanceof DirectoryTimeout) return err.message
  const e = err as { code?: unknown; message?: string; name?: string }
  // ldapts' result-code errors (InvalidCredentialsError...) carry the LDAP code; Node's socket errors a string code
  const code = typeof e.code === 'string' || typeof e.code === 'number' ? ` (${String(e.code)})` : ''
  return `${e.name ?? 'Error'}: ${e.message ?? String(err)}${code}`
}

export class LdapAccountSource implements AccountSource {
  readonly kind = 'ldap'
  readonly #pool: LdapPool
  readonly #cache: LRUCache<string, Cached>
  readonly #inFlight = new Map<string, Promise<AccountLookup>>()
  readonly #now: () => number
  /** `ok: undefined`: not contacted yet (nothing is known, nothing is claimed) */
  #up: { ok: boolean | undefined; reason?: string; since: number }

  constructor(
    private readonly settings: LdapSettings,
    private readonly options: LdapSourceOptions = {},
  ) {
    this.#pool = new LdapPool(settings)
    this.#now = options.now ?? Date.now
    // Kept up to the stale limit; whether an entry is fresh enough is decided at lookup.
    this.#cache = new LRUCache({ max: settings.cacheMax, ttl: settings.staleLimitMs, ttlAutopurge: false })
    this.#up = { ok: undefined, since: this.#now() }
  }

  lookup(identity: Identity): Promise<AccountLookup> {
    const filter = filterFor(this.settings.filter, identity)
    if (filter === undefined) return Promise.resolve({ status: 'none', checkedAt: this.#now() })
    let pending = this.#inFlight.get(filter)
    if (pending === undefined) {
      pending = this.#lookup(filter).finally(() => this.#inFlight.delete(filter))
      this.#inFlight.set(filter, pending)
    }
    return pending
  }

  async #lookup(filter: string): Promise<AccountLookup> {
    const now = this.#now()
    const cached = this.#cache.get(filter)
    if (cached !== undefined) {
      // a duplicate or a disabled account is an answer as well: remembered like "no account"
      const ttl = cached.answer.status === 'found' ? this.settings.cacheTtlMs : this.settings.negativeCacheTtlMs
      if (now - cached.at < ttl) return this.#answer(cached, 'cached')
    }
    try {
      const answer = await withDeadline(this.#search(filter), this.settings.timeoutMs)
      const entry = { answer, at: this.#now() }
      this.#cache.set(filter, entry)
      this.#mark(true)
      return this.#answer(entry, answer.status)
    } catch (err) {
      const reason = describeDirectoryError(err)
      this.#pool.drain()
      this.#mark(false, reason)
      if (cached !== undefined && this.#now() - cached.at < this.settings.staleLimitMs)
        return this.#answer(cached, 'stale')
      this.options.observe?.('unavailable')
      return { status: 'unavailable', reason, checkedAt: this.#now() }
    }
  }

  /** checkedAt is when this lookup happened (the session's next refresh counts from it), not the cached answer's age. */
  #answer(c: Cached, outcome: LookupOutcome): AccountLookup {
    this.options.observe?.(outcome)
    const checkedAt = this.#now()
    if (c.answer.status !== 'found') return { status: c.answer.status, checkedAt }
    return { ...c.answer, groups: [...c.answer.groups], checkedAt, ...(outcome === 'stale' && { stale: true }) }
  }

  #mark(ok: boolean, reason?: string): void {
    if (this.#up.ok !== ok && (this.#up.ok !== undefined || !ok)) this.options.onStatus?.(ok, reason)
    this.#up = { ok, since: this.#up.ok === ok ? this.#up.since : this.#now(), ...(reason !== undefined && { reason }) }
  }

  /** One search; a connection the server closed meanwhile is retried once on a fresh one. */
  async #search(filter: string): Promise<Answer> {
    try {
      return await this.#pool.use((client) => this.#searchWith(client, filter))
    } catch (err) {
      if (err instanceof DirectoryTimeout || !isConnectionLoss(err)) throw err
      this.#pool.drain()
      return this.#pool.use((client) => this.#searchWith(client, filter))
    }
  }

  async #searchWith(client: Client, filter: string): Promise<Answer> {
    const s = this.settings
    const { searchEntries } = await client.search(s.baseDn, {
      scope: 'sub',
      filter,
      attributes: [s.loginAttribute, s.displayNameAttribute, s.groupsAttribute, USER_ACCOUNT_CONTROL],
      sizeLimit: 2,
      timeLimit: Math.max(1, Math.ceil(s.timeoutMs / 1000)),
    })
    if (searchEntries.length === 0) return { status: 'none' }
    // Two entries for one practitioner is the directory's data, not an outage: refuse to pick one,
    // tell the log which filter, and leave the directory's health alone.
    if (searchEntries.length > 1) {
      // (sizeLimit 2: ldapts returns the first two entries of two or more)
      this.options.onDataProblem?.(
        `the filter ${filter} matches several entries (${searchEntries.map((e) => e.dn).join('; ')}): the practitioner is refused until one is left`,
      )
      return { status: 'duplicate' }
    }
    const entry = searchEntries[0]!
    const control = Number(text(entry[USER_ACCOUNT_CONTROL]))
    if (Number.isInteger(control) && (control & ACCOUNTDISABLE) !== 0) return { status: 'disabled' }
    const login = text(entry[s.loginAttribute])
    if (login === undefined) return { status: 'none' }
    const groups = new Set(texts(entry[s.groupsAttribute]).map(firstRdnValue))
    if (s.nestedGroups) {
      const nested = await client.search(s.groupBaseDn ?? s.baseDn, {
        scope: 'sub',
        filter: `(member:${IN_CHAIN}:=${escapeFilterValue(entry.dn)})`,
        attributes: ['cn'],
      })
      for (const g of nested.searchEntries) groups.add(text(g.cn) ?? firstRdnValue(g.dn))
    }
    const displayName = text(entry[s.displayNameAttribute])
    return { status: 'found', login, groups: [...groups], ...(displayName !== undefined && { displayName }) }
  }

  health(): SourceHealth {
    if (this.#up.ok === undefined)
      return { ok: false, reason: `directory ${this.settings.url} not contacted yet (first probe under way)` }
    if (this.#up.ok) return { ok: true, reason: `directory ${this.settings.url} answering` }
    const since = new Date(this.#up.since).toISOString()
    return {
      ok: false,
      reason: `directory ${this.settings.url} not answering since ${since} (${this.#up.reason ?? 'error'}); cached answers used up to staleLimit`,
    }
  }

  /** Asks the directory (bind and a base search) so that readiness does not wait for a login. */
  async probe(): Promise<void> {
    try {
      await withDeadline(
        this.#pool.use((c) =>
          c.search(this.settings.baseDn, { scope: 'base', filter: '(objectClass=*)', attributes: ['1.1'] }),
        ),
        this.settings.timeoutMs,
      )
      this.#mark(true)
    } catch (err) {
      this.#pool.drain()
      this.#mark(false, describeDirectoryError(err))
    }
  }

  async close(): Promise<void> {
    await this.#pool.close()
  }
}

function isConnectionLoss(err: unknown): boolean {
  const code = (err as { code?: unknown }).code
  return code === 'ECONNRESET' || code === 'EPIPE' || /socket|connection|closed/i.test((err as Error).message ?? '')
}
