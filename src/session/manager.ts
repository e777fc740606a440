// Session life: create at login, load and keep alive on each request, end at logout or timeout.
import { SessionStoreUnavailable } from './store.js'
import { VerifiedCookies } from './cookies.js'
import { newSessionId, sessionReference } from './ids.js'
import { remainingLifetimeMs, sessionState, touchIntervalMs, type SessionTimeouts } from './lifetime.js'
import type { SessionRecord, SessionStore, SessionSummary, StoreEndedSession } from './store.js'

/** A session that ended without a request to see it end: for the audit trail. */
export interface SessionEnd {
  ref: string
  idNat: string
  profession?: string | undefined
  reason: 'idle-expired' | 'absolute-expired' | 'store-lost'
  /** from login to the end (the timeout's deadline, or when the loss was noticed) */
  sessionDurationMs: number
}

const NO_SESSION = Object.freeze({ kind: 'none' as const })

export type LoadedSession =
  | { kind: 'none' }
  /** sessionDurationMs: login to the deadline reached, for the audit event the request path writes */
  | { kind: 'ended'; why: 'idle-expired' | 'absolute-expired'; sessionDurationMs: number }
  | { kind: 'alive'; record: SessionRecord }

export type NewSession = Omit<SessionRecord, 'createdAt' | 'lastSeenAt' | 'validatedAt' | 'ref'>

/** Where a request came from, kept with the session when it is touched (for the security team's list). */
export interface RequestSeen {
  client: string
  route: string
}

export interface SessionRules extends SessionTimeouts {
  /** a new login ends the practitioner's other sessions */
  onePerPractitioner?: boolean
}

export class SessionManager {
  readonly #touchEveryMs: number
  /** session cookies already verified against this gateway's secrets */
  readonly cookies = new VerifiedCookies()

  constructor(
    readonly store: SessionStore,
    readonly timeouts: SessionRules,
    private readonly now: () => number = Date.now,
  ) {
    this.#touchEveryMs = touchIntervalMs(timeouts)
  }

  /**
   * With onePerPractitioner, the practitioner's other sessions end once the new one exists; they
   * are in `superseded`, for the caller to audit.
   */
  async create(fields: NewSession): Promise<{ id: string; record: SessionRecord; superseded: SessionSummary[] }> {
    const now = this.now()
    const id = newSessionId()
    const record: SessionRecord = {
      ...fields,
      createdAt: now,
      lastSeenAt: now,
      validatedAt: now,
      ref: sessionReference(id),
    }
    await this.store.set(id, record, remainingLifetimeMs(record, now, this.timeouts))
    if (this.timeouts.onePerPractitioner !== true) return { id, record, superseded: [] }
    const others = (await this.store.listSessions({ idNat: record.identity.idNat })).filter((s) => s.ref !== record.ref)
    const superseded = others.length === 0 ? [] : await this.store.deleteByRefs(others.map((s) => s.ref))
    return { id, record, superseded }
  }

  /** The live sessions, all or one practitioner's (idNat). */
  list(filter: { idNat?: string } = {}): Promise<SessionSummary[]> {
    return this.store.listSessions(filter)
  }

  /**
   * Ends one session (by its reference) or every session of a practitioner, on every replica: the
   * record is deleted from the store, which every request reads (no replica keeps a copy it would
   * serve without reading), and a touch in flight does not write it back (store.update).
   */
  async revoke(target: { ref: string } | { idNat: string }): Promise<SessionSummary[]> {
    if ('ref' in target) return this.store.deleteByRefs([target.ref])
    const sessions = await this.store.listSessions({ idNat: target.idNat })
    return sessions.length === 0 ? [] : this.store.deleteByRefs(sessions.map((s) => s.ref))
  }

  /** Without a promise when the store answers at once and nothing has to be written back. */
  load(id: string, seen?: RequestSeen): LoadedSession | Promise<LoadedSession> {
    // A session logged out during a store outage is over, whatever the store still says.
    if (this.#pendingEnds.size > 0 && this.#pendingEnds.has(id)) return NO_SESSION
    const got = this.store.get(id)
    return got instanceof Promise ? got.then((record) => this.#loaded(id, record, seen)) : this.#loaded(id, got, seen)
  }

  #loaded(id: string, record: SessionRecord | undefined, seen?: RequestSeen): LoadedSession | Promise<LoadedSession> {
    if (record === undefined) return NO_SESSION
    const now = this.now()
    const state = sessionState(record, now, this.timeouts)
    if (state !== 'alive') {
      const end =
        state === 'absolute-expired'
          ? record.createdAt + this.timeouts.absoluteTimeoutMs
          : record.lastSeenAt + this.timeouts.idleTimeoutMs
      return this.store
        .delete(id)
        .then(() => ({ kind: 'ended', why: state, sessionDurationMs: Math.max(0, end - record.createdAt) }))
    }
    if (now - record.lastSeenAt >= this.#touchEveryMs) {
      // A copy: stores may hand the same record to concurrent requests (memory, Redis's decoded cache).
      // The request's client and path ride along with the touch that is written anyway: no extra I/O.
      const touched = {
        ...record,
        lastSeenAt: now,
        ...(seen !== undefined && { lastClient: seen.client, lastRoute: seen.route }),
      }
      return this.store
        .update(id, touched, remainingLifetimeMs(touched, now, this.timeouts))
        .then((alive) => (alive ? { kind: 'alive', record: touched } : NO_SESSION))
    }
    return { kind: 'alive', record }
  }

  /** Writes back a changed record (e.g. refreshed tokens), keeping its lifetime. */
  async save(id: string, record: SessionRecord): Promise<void> {
    await this.store.update(id, record, remainingLifetimeMs(record, this.now(), this.timeouts))
  }

  /**
   * Calls `listener` for every session the store ends by itself (timeouts reached while the
   * practitioner is away, sessions evicted or lost), with its cause and duration. The store checks
   * for them often enough that an end is noticed within a quarter of the idle timeout (30 s at most).
   */
  watchEnds(listener: (end: SessionEnd) => void): void {
    const sweepEveryMs = Math.max(250, Math.min(30_000, Math.floor(this.timeouts.idleTimeoutMs / 4)))
    this.store.onEnded?.((e) => listener(this.#classify(e)), sweepEveryMs)
  }

  /**
   * The sessions the store loses when it closes (the memory store at shutdown: the practitioners
   * will have to log in again), as ends for the audit trail: the first `max`, and how many more.
   */
  lostOnClose(max: number): { ends: SessionEnd[]; more: number } {
    const lost = this.store.lostOnClose?.(max)
    if (lost === undefined) return { ends: [], more: 0 }
    return { ends: lost.sessions.map((e) => this.#classify(e)), more: lost.more }
  }

  #classify(e: StoreEndedSession): SessionEnd {
    const base = { ref: e.ref, idNat: e.idNat, profession: e.profession }
    if (e.why === 'lost')
      return { ...base, reason: 'store-lost', sessionDurationMs: Math.max(0, this.now() - e.createdAt) }
    // The TTL ran out at whichever deadline came first.
    const absoluteEnd = e.createdAt + this.timeouts.absoluteTimeoutMs
    const idleEnd = e.lastSeenAt + this.timeouts.idleTimeoutMs
    const absolute = absoluteEnd <= idleEnd
    return {
      ...base,
      reason: absolute ? 'absolute-expired' : 'idle-expired',
      sessionDurationMs: Math.max(0, (absolute ? absoluteEnd : idleEnd) - e.createdAt),
    }
  }

  async end(id: string): Promise<void> {
    await this.store.delete(id)
  }

  readonly #pendingEnds = new Set<string>()
  #retryTimer: NodeJS.Timeout | undefined

  /**
   * Ends a session now or, when the store does not answer (a logout during an outage), as soon as
   * it answers again: until then this gateway treats the session as ended. Other replicas learn of
   * it when the deletion reaches the store.
   */
  async endEventually(id: string): Promise<'ended' | 'pending'> {
    try {
      await this.end(id)
      return 'ended'
    } catch (err) {
      if (!(err instanceof SessionStoreUnavailable)) throw err
      if (this.#pendingEnds.size < MAX_PENDING_ENDS) this.#pendingEnds.add(id)
      this.#retryTimer ??= setInterval(() => void this.#retryEnds(), RETRY_ENDS_MS).unref()
      return 'pending'
    }
  }

  /** Sessions whose end waits for the store. */
  get pendingEnds(): number {
    return this.#pendingEnds.size
  }

  async #retryEnds(): Promise<void> {
    for (const id of [...this.#pendingEnds]) {
      try {
        await this.store.delete(id)
        this.#pendingEnds.delete(id)
      } catch {
        return // still down: the next round tries again
      }
    }
    if (this.#pendingEnds.size === 0) {
      clearInterval(this.#retryTimer)
      this.#retryTimer = undefined
    }
  }

  /** Stops retrying (the process is ending); returns how many ends never reached the store. */
  stop(): number {
    clearInterval(this.#retryTimer)
    this.#retryTimer = undefined
    return this.#pendingEnds.size
  }
}

const MAX_PENDING_ENDS = 100_000
const RETRY_ENDS_MS = 1000
