// Where sessions live server-side. The cookie carries only a random id; everything else is here.
import type { Identity } from '../psc/identity.js'

export interface SessionRecord {
  identity: Identity
  /** PSC tokens: kept server-side only, never sent to the browser or logged */
  idToken: string
  accessToken: string
  refreshToken?: string
  /** epoch ms */
  accessTokenExpiresAt: number
  /** PSC `sid` claim, for back-channel logout */
  pscSid?: string
  /** epoch ms */
  createdAt: number
  lastSeenAt: number
  /** epoch ms of the last confirmation by PSC that its session is alive (login or refresh) */
  validatedAt?: number
  /** sessionReference(id), computed once at creation so requests do not hash the id again */
  ref: string
  /** How the practitioner logged in and from where, for the security team's list (sessions.md) */
  login?: { method: string; client: string }
  /** client address and path (no query) of the request that last renewed lastSeenAt */
  lastClient?: string
  lastRoute?: string
}

/** What the security team sees of a live session: never its id, a cookie or a token. */
export interface SessionSummary {
  ref: string
  idNat: string
  rpps?: string | undefined
  familyName: string
  givenName: string
  createdAt: number
  lastSeenAt: number
  /** redirect or ciba */
  loginMethod?: string | undefined
  /** PSC authMode, e.g. CARD (CPS card) or MOBILE (e-CPS) */
  authMode?: string | undefined
  loginClient?: string | undefined
  lastClient?: string | undefined
  lastRoute?: string | undefined
}

export function summaryOf(record: SessionRecord): SessionSummary {
  const i = record.identity
  return {
    ref: record.ref,
    idNat: i.idNat,
    rpps: i.rpps,
    familyName: i.familyName,
    givenName: i.givenName,
    createdAt: record.createdAt,
    lastSeenAt: record.lastSeenAt,
    loginMethod: record.login?.method,
    authMode: i.authMode,
    loginClient: record.login?.client,
    lastClient: record.lastClient ?? record.login?.client,
    lastRoute: record.lastRoute,
  }
}

/** A session the store ended by itself (its TTL ran out, or it had to let it go), as little as the audit needs. */
export interface StoreEndedSession {
  ref: string
  idNat: string
  profession?: string | undefined
  createdAt: number
  lastSeenAt: number
  /** expired: its TTL ran out (idle or absolute timeout); lost: evicted (memory full, Redis maxmemory) before it expired */
  why: 'expired' | 'lost'
}

export interface StoreHealth {
  ok: boolean
  reason?: string
}

/** The store could not answer: callers must fail closed (never treat this as "no session"). */
export class SessionStoreUnavailable extends Error {
  constructor(readonly reason: string) {
    super(`session store unavailable: ${reason}`)
  }
}

/**
 * A session store. Implementations treat ids as secrets (never log them) and keep a record at most
 * `ttlMs`; an expired or evicted record reads back as undefined. Any failure to reach the backing
 * service throws SessionStoreUnavailable.
 */
export interface SessionStore {
  readonly kind: string
  /** A store that can answer at once (memory) does, without a promise: this is on every request. */
  get(id: string): SessionRecord | undefined | Promise<SessionRecord | undefined>
  set(id: string, record: SessionRecord, ttlMs: number): Promise<void>
  /**
   * Writes a changed record only if its session still exists (a touch, refreshed tokens): a session
   * revoked meanwhile stays ended instead of being written back. Whether it existed.
   */
  update(id: string, record: SessionRecord, ttlMs: number): Promise<boolean>
  /** The live sessions, all or those of one practitioner (by the idNat index): for the admin API. */
  listSessions(filter: { idNat?: string }): Promise<SessionSummary[]>
  /** Ends the live sessions with these references; resolves with those it ended. */
  deleteByRefs(refs: string[]): Promise<SessionSummary[]>
  delete(id: string): Promise<void>
  /**
   * The sessions this store loses when it closes (the memory store: every live one; a shared
   * store keeps them): the first `max`, and how many more. For the audit trail at shutdown.
   */
  lostOnClose?(max: number): { sessions: StoreEndedSession[]; more: number }
  /** Ends every session of a PSC `sid` and/or `sub` (back-channel logout); resolves with how many. */
  deleteWhere(match: { sid?: string; sub?: string }): Promise<number>
  /** Remembers `key` for `ttlMs`; false when it was already remembered (replay protection). */
  rememberOnce(key: string, ttlMs: number): Promise<boolean>
  /**
   * Short-lived state every replica must see (a CIBA request polled by one replica while its
   * browser's requests reach another): `value` under `key` for `ttlMs`. Not for sessions.
   */
  putShared(key: string, value: string, ttlMs: number): Promise<void>
  /** The value under `key`, undefined once it expired or was taken. */
  getShared(key: string): Promise<string | undefined>
  /** Reads and removes `key` in one step: of several callers at once, one gets the value. */
  /** Replaces the value under `key` only if it is still `expected` (compare and set); whether it did. */
  replaceShared(key: string, expected: string, value: string, ttlMs: number): Promise<boolean>
  takeShared(key: string): Promise<string | undefined>
  /** A short lock for work that must happen once across replicas; undefined when someone holds it. */
  tryLock(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined>
  /** whether the store answers now (Redis: a PING within the command timeout, so a frozen server is seen) */
  health(): StoreHealth | Promise<StoreHealth>
  /**
   * Tells `listener` of each session the store ends by itself, once across replicas, checking at
   * least every `sweepEveryMs` (the practitioner may never come back to notice). Sessions ended by
   * delete/deleteWhere are not reported: their callers audit them.
   */
  onEnded?(listener: (ended: StoreEndedSession) => void, sweepEveryMs: number): void
  /** live sessions, approximately (for metrics) */
  size(): number
  /** A store that connects to a server (Redis): resolves once connected, rejects after `timeoutMs`. */
  ready?(timeoutMs: number): Promise<void>
  close(): Promise<void>
}
