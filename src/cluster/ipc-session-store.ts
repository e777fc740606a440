// The session store of a worker process when the sessions live in the primary (memory store): every method is a call over the worker's channel.
import { LRUCache } from 'lru-cache'
import { STORE_RPC as R, type GetReply } from './primary-store.js'
import type { RpcPeer } from './rpc.js'
import {
  SessionStoreUnavailable,
  type SessionRecord,
  type SessionStore,
  type SessionSummary,
  type StoreHealth,
} from '../session/store.js'

/**
 * Records this worker has read, by session id, with the primary's version of each. Every `get`
 * still asks the primary (so a revoked or expired session is never served); when the record has
 * not been written since, the primary answers with the version alone and this copy is used: the
 * record (its tokens: a few KB) crosses the channel once per write, not once per request, and
 * concurrent requests share one object (as with the Redis store's decoded records).
 */
const KNOWN_MAX = 4_000

/** how often size() (a metric) is refreshed from the primary */
const SIZE_EVERY_MS = 15_000

/**
 * No onEnded: the sessions the primary's store ends by itself are audited by the primary, once;
 * a worker is never told of them.
 */
export class IpcSessionStore implements SessionStore {
  readonly kind = 'memory'
  readonly #peer: RpcPeer
  readonly #known = new LRUCache<string, { version: number; record: SessionRecord }>({ max: KNOWN_MAX })
  #size = 0
  readonly #sizeTimer: NodeJS.Timeout
  #closed = false

  constructor(peer: RpcPeer) {
    this.#peer = peer
    this.#refreshSize()
    this.#sizeTimer = setInterval(() => this.#refreshSize(), SIZE_EVERY_MS).unref()
  }

  get(id: string): Promise<SessionRecord | undefined> {
    const known = this.#known.get(id)
    return this.#call<GetReply>(R.get, id, known?.version ?? null).then((reply) => {
      if (typeof reply === 'number' && known !== undefined && known.version === reply) return known.record
      if (Array.isArray(reply)) {
        this.#known.set(id, { version: reply[0], record: reply[1] })
        return reply[1]
      }
      this.#known.delete(id)
      return undefined
    })
  }

  async set(id: string, record: SessionRecord, ttlMs: number): Promise<void> {
    this.#known.delete(id)
    await this.#call(R.set, id, record, ttlMs)
  }

  async update(id: string, record: SessionRecord, ttlMs: number): Promise<boolean> {
    this.#known.delete(id)
    return this.#call<boolean>(R.update, id, record, ttlMs)
  }

  async delete(id: string): Promise<void> {
    this.#known.delete(id)
    await this.#call(R.delete, id)
  }

  deleteWhere(match: { sid?: string; sub?: string }): Promise<number> {
    return this.#call(R.deleteWhere, match)
  }

  deleteByRefs(refs: string[]): Promise<SessionSummary[]> {
    return this.#call(R.deleteByRefs, refs)
  }

  listSessions(filter: { idNat?: string }): Promise<SessionSummary[]> {
    return this.#call(R.listSessions, filter)
  }

  rememberOnce(key: string, ttlMs: number): Promise<boolean> {
    return this.#call(R.rememberOnce, key, ttlMs)
  }

  async putShared(key: string, value: string, ttlMs: number): Promise<void> {
    await this.#call(R.putShared, key, value, ttlMs)
  }

  async getShared(key: string): Promise<string | undefined> {
    return (await this.#call<string | null | undefined>(R.getShared, key)) ?? undefined
  }

  async takeShared(key: string): Promise<string | undefined> {
    return (await this.#call<string | null | undefined>(R.takeShared, key)) ?? undefined
  }

  replaceShared(key: string, expected: string, value: string, ttlMs: number): Promise<boolean> {
    return this.#call(R.replaceShared, key, expected, value, ttlMs)
  }

  async tryLock(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    const token = await this.#call<string | null | undefined>(R.tryLock, key, ttlMs)
    if (token === undefined || token === null) return undefined
    // Not released (the primary unreachable): the lock lapses at its TTL, as a Redis lock does.
    return () => this.#peer.call<void>(R.unlock, token).catch(() => undefined)
  }

  async health(): Promise<StoreHealth> {
    try {
      return await this.#call<StoreHealth>(R.health)
    } catch (err) {
      return { ok: false, reason: err instanceof Error ? err.message : String(err) }
    }
  }

  /** the primary's count, as of the last refresh (a metric) */
  size(): number {
    return this.#size
  }

  /** The sessions stay in the primary: closing a worker loses none (no lostOnClose). */
  async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#sizeTimer)
    this.#known.clear()
  }

  #refreshSize(): void {
    this.#peer.call<number>(R.size).then(
      (n) => {
        this.#size = n
      },
      () => undefined,
    )
  }

  #call<T>(method: string, ...args: unknown[]): Promise<T> {
    if (this.#closed) return Promise.reject(new SessionStoreUnavailable('session store closed'))
    return this.#peer.call<T>(method, ...args)
  }
}
