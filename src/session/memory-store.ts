// The default store for one replica: bounded by entry count (least recently used evicted first)
// and by per-entry TTL, so memory stays flat whatever the traffic.
import { LRUCache } from 'lru-cache'
import type { SessionRecord, SessionStore } from './store.js'

export class MemorySessionStore implements SessionStore {
  readonly kind = 'memory'
  readonly #cache: LRUCache<string, SessionRecord>

  constructor(maxSessions: number) {
    this.#cache = new LRUCache<string, SessionRecord>({ max: maxSessions, ttlAutopurge: false, allowStale: false })
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    return this.#cache.get(id)
  }

  async set(id: string, record: SessionRecord, ttlMs: number): Promise<void> {
    this.#cache.set(id, record, { ttl: Math.max(1, ttlMs) })
  }

  async delete(id: string): Promise<void> {
    this.#cache.delete(id)
  }

  size(): number {
    return this.#cache.size
  }

  async close(): Promise<void> {
    this.#cache.clear()
  }
}
