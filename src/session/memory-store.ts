// The default store for one replica: bounded by entry count (least recently used evicted first)
// and by per-entry TTL, so memory stays flat whatever the traffic.
import { LRUCache } from 'lru-cache'
import type { Structure } from '../psc/identity.js'
import {
  summaryOf,
  type SessionRecord,
  type SessionStore,
  type SessionSummary,
  type StoreEndedSession,
  type StoreHealth,
} from './store.js'

export class MemorySessionStore implements SessionStore {
  readonly kind = 'memory'
  readonly #cache: LRUCache<string, SessionRecord>
  /** PSC sid / sub → our session id(s), for back-channel logout */
  readonly #bySid: SessionIndex = new Map()
  readonly #bySub: SessionIndex = new Map()
  /** idNat → our session id(s), for the security team's list and revocation */
  readonly #byIdNat: SessionIndex = new Map()
  readonly #remembered: LRUCache<string, true>
  readonly #locks = new Map<string, number>()
  readonly #sharedValues = new LRUCache<string, string>({ max: 10_000, ttlAutopurge: true })
  /**
   * The practitioners of one hospital work in the same few structures: each session points at one
   * shared copy of a structure instead of holding its own (a few hundred bytes per session).
   */
  readonly #structures = new LRUCache<string, Structure>({ max: 10_000 })
  #onEnded: ((ended: StoreEndedSession) => void) | undefined
  #sweep: NodeJS.Timeout | undefined

  constructor(maxSessions: number) {
    this.#cache = new LRUCache<string, SessionRecord>({
      max: maxSessions,
      ttlAutopurge: false,
      allowStale: false,
      dispose: (record, id, reason) => {
        this.#unindex(id, record)
        // 'expire': its TTL ran out (found stale by a lookup or by the sweep); 'evict': pushed out by
        // newer sessions (maxSessions). 'delete' and 'set' are our callers' doing, audited by them.
        if (this.#onEnded !== undefined && (reason === 'expire' || reason === 'evict')) {
          this.#onEnded({
            ref: record.ref,
            idNat: record.identity.idNat,
            profession: record.identity.exercices[0]?.professionCode,
            createdAt: record.createdAt,
            lastSeenAt: record.lastSeenAt,
            why: reason === 'expire' ? 'expired' : 'lost',
          })
        }
      },
    })
    this.#remembered = new LRUCache<string, true>({ max: 100_000, ttlAutopurge: false })
  }

  get(id: string): SessionRecord | undefined {
    return this.#cache.get(id)
  }

  async set(id: string, record: SessionRecord, ttlMs: number): Promise<void> {
    for (const exercice of record.identity.exercices)
      exercice.structures = exercice.structures.map((s) => this.#shared(s))
    this.#cache.set(id, record, { ttl: Math.max(1, ttlMs) })
    if (record.pscSid) index(this.#bySid, record.pscSid, id)
    index(this.#bySub, record.identity.sub, id)
    index(this.#byIdNat, record.identity.idNat, id)
  }

  async update(id: string, record: SessionRecord, ttlMs: number): Promise<boolean> {
    if (!this.#cache.has(id)) return false
    await this.set(id, record, ttlMs)
    return true
  }

  async listSessions(filter: { idNat?: string }): Promise<SessionSummary[]> {
    const records =
      filter.idNat === undefined
        ? [...this.#cache.values()]
        : [...idsOf(this.#byIdNat, filter.idNat)].flatMap((id) => this.#cache.get(id) ?? [])
    return records.map(summaryOf)
  }

  async deleteByRefs(refs: string[]): Promise<SessionSummary[]> {
    const wanted = new Set(refs)
    const ended: SessionSummary[] = []
    for (const [id, record] of [...this.#cache.entries()]) {
      if (!wanted.has(record.ref)) continue
      if (this.#cache.delete(id)) ended.push(summaryOf(record))
    }
    return ended
  }

  async delete(id: string): Promise<void> {
    this.#cache.delete(id)
  }

  async deleteWhere(match: { sid?: string; sub?: string }): Promise<number> {
    const ids = new Set<string>([
      ...(match.sid ? idsOf(this.#bySid, match.sid) : []),
      ...(match.sub ? idsOf(this.#bySub, match.sub) : []),
    ])
    let ended = 0
    for (const id of ids) if (this.#cache.delete(id)) ended++
    return ended
  }

  async rememberOnce(key: string, ttlMs: number): Promise<boolean> {
    if (this.#remembered.get(key)) return false
    this.#remembered.set(key, true, { ttl: Math.max(1, ttlMs) })
    return true
  }

  async putShared(key: string, value: string, ttlMs: number): Promise<void> {
    this.#sharedValues.set(key, value, { ttl: Math.max(1, ttlMs) })
  }

  async getShared(key: string): Promise<string | undefined> {
    return this.#sharedValues.get(key)
  }

  async takeShared(key: string): Promise<string | undefined> {
    const value = this.#sharedValues.get(key)
    this.#sharedValues.delete(key)
    return value
  }

  async replaceShared(key: string, expected: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.#sharedValues.get(key) !== expected) return false
    this.#sharedValues.set(key, value, { ttl: Math.max(1, ttlMs) })
    return true
  }

  async tryLock(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    const now = Date.now()
    const until = this.#locks.get(key)
    if (until !== undefined && until > now) return undefined
    this.#locks.set(key, now + ttlMs)
    return async () => void this.#locks.delete(key)
  }

  onEnded(listener: (ended: StoreEndedSession) => void, sweepEveryMs: number): void {
    this.#onEnded = listener
    clearInterval(this.#sweep)
    // Without it, a session whose practitioner never comes back would end unnoticed.
    this.#sweep = setInterval(() => this.#cache.purgeStale(), sweepEveryMs)
    this.#sweep.unref()
  }

  lostOnClose(max: number): { sessions: StoreEndedSession[]; more: number } {
    // Sessions past their timeout ended by it (reported as such through onEnded), not by the close.
    this.#cache.purgeStale()
    const sessions: StoreEndedSession[] = []
    let more = 0
    for (const record of this.#cache.values()) {
      if (sessions.length >= max) {
        more++
        continue
      }
      sessions.push({
        ref: record.ref,
        idNat: record.identity.idNat,
        profession: record.identity.exercices[0]?.professionCode,
        createdAt: record.createdAt,
        lastSeenAt: record.lastSeenAt,
        why: 'lost',
      })
    }
    return { sessions, more }
  }

  health(): StoreHealth {
    return { ok: true }
  }

  size(): number {
    return this.#cache.size
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep)
    this.#onEnded = undefined
    this.#cache.clear()
  }

  #shared(structure: Structure): Structure {
    const key = JSON.stringify(structure)
    const known = this.#structures.get(key)
    if (known) return known
    const frozen = Object.freeze({ ...structure })
    this.#structures.set(key, frozen)
    return frozen
  }

  #unindex(id: string, record: SessionRecord): void {
    if (record.pscSid) unindex(this.#bySid, record.pscSid, id)
    unindex(this.#bySub, record.identity.sub, id)
    unindex(this.#byIdNat, record.identity.idNat, id)
  }
}

/**
 * Most practitioners have one session: the index holds that id as a plain string, and a Set only
 * for several (a Set per session would cost a few hundred bytes each, at 50,000 sessions).
 */
type SessionIndex = Map<string, string | Set<string>>

function idsOf(map: SessionIndex, key: string): Iterable<string> {
  const ids = map.get(key)
  return ids === undefined ? [] : typeof ids === 'string' ? [ids] : ids
}

function index(map: SessionIndex, key: string, id: string): void {
  const ids = map.get(key)
  if (ids === undefined || ids === id) map.set(key, id)
  else if (typeof ids === 'string') map.set(key, new Set([ids, id]))
  else ids.add(id)
}

function unindex(map: SessionIndex, key: string, id: string): void {
  const ids = map.get(key)
  if (ids === undefined) return
  if (typeof ids === 'string') {
    if (ids === id) map.delete(key)
    return
  }
  ids.delete(id)
  if (ids.size === 1) map.set(key, ids.values().next().value as string)
}
