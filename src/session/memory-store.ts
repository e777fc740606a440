// The default store for one replica: bounded by entry count (least recently used evicted first)
// and by per-entry TTL, so memory stays flat whatever the traffic.
import { LRUCache } from 'lru-cache'
import type { SessionRecord, SessionStore, StoreHealth } from './store.js'

export class MemorySessionStore implements SessionStore {
  readonly kind = 'memory'
  readonly #cache: LRUCache<string, SessionRecord>
  /** PSC sid / sub → our session ids, for back-channel logout */
  readonly #bySid = new Map<string, Set<string>>()
  readonly #bySub = new Map<string, Set<string>>()
  readonly #remembered: LRUCache<string, true>
  readonly #locks = new Map<string, number>()

  constructor(maxSessions: number) {
    this.#cache = new LRUCache<string, SessionRecord>({
      max: maxSessions,
      ttlAutopurge: false,
      allowStale: false,
      dispose: (record, id) => this.#unindex(id, record)
    })
    this.#remembered = new LRUCache<string, true>({ max: 100_000, ttlAutopurge: false })
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    return this.#cache.get(id)
  }

  async set(id: string, record: SessionRecord, ttlMs: number): Promise<void> {
    this.#cache.set(id, record, { ttl: Math.max(1, ttlMs) })
    if (record.pscSid) index(this.#bySid, record.pscSid, id)
    index(this.#bySub, record.identity.sub, id)
  }

  async delete(id: string): Promise<void> {
    this.#cache.delete(id)
  }

  async deleteWhere(match: { sid?: string; sub?: string }): Promise<number> {
    const ids = new Set<string>([...(match.sid ? this.#bySid.get(match.sid) ?? [] : []), ...(match.sub ? this.#bySub.get(match.sub) ?? [] : [])])
    let ended = 0
    for (const id of ids) if (this.#cache.delete(id)) ended++
    return ended
  }

  async rememberOnce(key: string, ttlMs: number): Promise<boolean> {
    if (this.#remembered.get(key)) return false
    this.#remembered.set(key, true, { ttl: Math.max(1, ttlMs) })
    return true
  }

  async tryLock(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    const now = Date.now()
    const until = this.#locks.get(key)
    if (until !== undefined && until > now) return undefined
    this.#locks.set(key, now + ttlMs)
    return async () => void this.#locks.delete(key)
  }

  health(): StoreHealth {
    return { ok: true }
  }

  size(): number {
    return this.#cache.size
  }

  async close(): Promise<void> {
    this.#cache.clear()
  }

  #unindex(id: string, record: SessionRecord): void {
    if (record.pscSid) unindex(this.#bySid, record.pscSid, id)
    unindex(this.#bySub, record.identity.sub, id)
  }
}

function index(map: Map<string, Set<string>>, key: string, id: string): void {
  let ids = map.get(key)
  if (!ids) map.set(key, (ids = new Set()))
  ids.add(id)
}

function unindex(map: Map<string, Set<string>>, key: string, id: string): void {
  const ids = map.get(key)
  if (!ids) return
  ids.delete(id)
  if (ids.size === 0) map.delete(key)
}
