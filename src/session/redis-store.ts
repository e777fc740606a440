// The shared store for several replicas, on Redis (ioredis). Keys are a hash of the session id, so
// a dump of Redis hands out no usable cookie. Commands fail fast while Redis is unreachable (no
// offline queue): the gate then answers 503 instead of waiting or, worse, treating it as "no session".
// The connection is in redis-connection.ts, the live and back-channel indexes in
// redis-session-index.ts, the values replicas share besides sessions in redis-shared-values.ts.
import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import { openRedis, storeCommand, type RedisStoreSettings } from './redis-connection.js'
import { endsEntry, INDEX_TTL_MS, RedisSessionIndex } from './redis-session-index.js'
import { RedisSharedValues } from './redis-shared-values.js'
import {
  SessionStoreUnavailable,
  type SessionRecord,
  type SessionStore,
  type SessionSummary,
  type StoreEndedSession,
  type StoreHealth,
} from './store.js'

export type { RedisStoreSettings } from './redis-connection.js'
export { INDEX_TTL_MS }

const hashId = (id: string) => createHash('sha256').update(id).digest('base64url')

/** Text of decoded records kept per replica (raw JSON length): a few thousand active sessions. */
const DECODED_MAX_CHARS = 16 * 2 ** 20

export class RedisSessionStore implements SessionStore {
  readonly kind = 'redis'
  readonly #redis: Redis
  readonly #p: string
  #health: StoreHealth = { ok: false, reason: 'connecting to Redis' }
  #size = 0
  #sizeTimer: NodeJS.Timeout
  /** Only a store asked to report ends sweeps: another's ZREM would take an end and report it to no one. */
  #sweepTimer: NodeJS.Timeout | undefined
  #onEnded: ((ended: StoreEndedSession) => void) | undefined
  readonly #index: RedisSessionIndex
  readonly #shared: RedisSharedValues
  // Per request, only the GET is I/O: the key's SHA-256 is computed once per session id, and a
  // record is decoded once per exact text Redis holds for it (the same bytes give the same record;
  // a changed, expired or deleted session is a different text or none, so nothing stale is served).
  readonly #hashes = new LRUCache<string, string>({ max: 20_000 })
  readonly #decoded = new LRUCache<string, SessionRecord>({
    maxSize: DECODED_MAX_CHARS,
    sizeCalculation: (_record, raw) => Math.max(1, raw.length),
  })

  constructor(settings: RedisStoreSettings) {
    this.#p = settings.keyPrefix
    this.#redis = openRedis(settings)
    this.#index = new RedisSessionIndex(this.#redis, this.#p)
    this.#shared = new RedisSharedValues(this.#redis, this.#p)
    this.#redis.on('ready', () => {
      this.#health = { ok: true }
    })
    this.#redis.on('error', (err: Error) => {
      this.#health = { ok: false, reason: `Redis: ${err.message}` }
    })
    this.#redis.on('close', () => {
      if (this.#health.ok) this.#health = { ok: false, reason: 'Redis connection closed' }
    })
    this.#sizeTimer = setInterval(() => void this.#refreshSize(), 15_000)
    this.#sizeTimer.unref()
  }

  /**
   * Expired sessions vanish from Redis without a word: the `live` index (session hash → expiry time)
   * and the `ends` hash (what the audit needs of each session) let a sweep find them. Every replica
   * that reports ends sweeps (a cluster's workers do not: their primary does); the one whose ZREM
   * removes an entry reports it, so each end is reported once.
   */
  onEnded(listener: (ended: StoreEndedSession) => void, sweepEveryMs: number): void {
    this.#onEnded = listener
    clearInterval(this.#sweepTimer)
    this.#sweepTimer = this.#startSweep(sweepEveryMs)
  }

  #startSweep(everyMs: number): NodeJS.Timeout {
    const timer = setInterval(() => void this.#sweep().catch(() => undefined), everyMs)
    timer.unref()
    return timer
  }

  async #sweep(): Promise<void> {
    await this.#index.sweep((ended) => this.#onEnded?.(ended))
  }

  /** The connection and key prefix, for counts kept beside the sessions (rate limits shared by processes). */
  get redis(): { connection: Redis; keyPrefix: string } {
    return { connection: this.#redis, keyPrefix: this.#p }
  }

  /** Resolves once connected, or rejects after `timeoutMs` (start-up does not wait for ever). */
  async ready(timeoutMs: number): Promise<void> {
    if (this.#redis.status === 'ready') return
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup()
        reject(new SessionStoreUnavailable(this.#health.reason ?? 'not connected'))
      }, timeoutMs)
      const onReady = () => {
        cleanup()
        resolve()
      }
      const cleanup = () => {
        clearTimeout(timer)
        this.#redis.off('ready', onReady)
      }
      this.#redis.on('ready', onReady)
    })
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const raw = await storeCommand(() => this.#redis.get(`${this.#p}s:${this.#hashOf(id)}`))
    if (raw === null) return undefined
    const known = this.#decoded.get(raw)
    if (known !== undefined) return known
    try {
      const record = JSON.parse(raw) as SessionRecord
      this.#decoded.set(raw, record)
      return record
    } catch {
      return undefined
    }
  }

  #hashOf(id: string): string {
    let hash = this.#hashes.get(id)
    if (hash === undefined) {
      hash = hashId(id)
      this.#hashes.set(id, hash)
    }
    return hash
  }

  async set(id: string, record: SessionRecord, ttlMs: number): Promise<void> {
    const h = this.#hashOf(id)
    const ttl = Math.max(1, Math.ceil(ttlMs))
    const m = this.#redis.multi().set(`${this.#p}s:${h}`, JSON.stringify(record), 'PX', ttl)
    m.zadd(`${this.#p}live`, Date.now() + ttl, h)
    m.hset(`${this.#p}ends`, h, endsEntry(record))
    for (const key of this.#index.keysOf(record)) m.sadd(key, h).pexpire(key, INDEX_TTL_MS)
    await storeCommand(() => m.exec())
  }

  async update(id: string, record: SessionRecord, ttlMs: number): Promise<boolean> {
    const h = this.#hashOf(id)
    const ttl = Math.max(1, Math.ceil(ttlMs))
    // One script, so that a session deleted by another replica (revoked) is never written back.
    const written = await storeCommand(() =>
      this.#redis.eval(
        UPDATE_IF_EXISTS,
        3,
        `${this.#p}s:${h}`,
        `${this.#p}live`,
        `${this.#p}ends`,
        JSON.stringify(record),
        String(ttl),
        String(Date.now() + ttl),
        h,
        endsEntry(record),
      ),
    )
    return written === 1
  }

  /**
   * The live index gives the sessions not yet expired; the ends hash, written with each record,
   * holds what the list shows of each (so listing never reads a record, its tokens included).
   */
  async listSessions(filter: { idNat?: string }): Promise<SessionSummary[]> {
    return (await this.#index.live(filter)).map(([, summary]) => summary)
  }
  async deleteByRefs(refs: string[]): Promise<SessionSummary[]> {
    const ended: SessionSummary[] = []
    for (const ref of new Set(refs)) {
      for (const [h, summary] of await this.#index.withRef(ref)) {
        const replies = await storeCommand(() =>
          this.#redis
            .multi()
            .del(`${this.#p}s:${h}`)
            .zrem(`${this.#p}live`, h)
            .hdel(`${this.#p}ends`, h)
            .srem(`${this.#p}idnat:${summary.idNat}`, h)
            .exec(),
        )
        if (replies?.[0]?.[1] === 1) ended.push(summary)
      }
    }
    return ended
  }

  async delete(id: string): Promise<void> {
    const h = this.#hashOf(id)
    await storeCommand(() =>
      this.#redis.multi().del(`${this.#p}s:${h}`).zrem(`${this.#p}live`, h).hdel(`${this.#p}ends`, h).exec(),
    )
  }

  async deleteWhere(match: { sid?: string; sub?: string }): Promise<number> {
    const sets = [
      match.sid ? `${this.#p}sid:${match.sid}` : undefined,
      match.sub ? `${this.#p}sub:${match.sub}` : undefined,
    ].filter((k): k is string => !!k)
    if (sets.length === 0) return 0
    const hashes = await storeCommand(() => this.#redis.sunion(...sets))
    if (hashes.length === 0) return 0
    const removed = await storeCommand(() => this.#redis.del(...hashes.map((h) => `${this.#p}s:${h}`)))
    await storeCommand(() =>
      this.#redis
        .multi()
        .zrem(`${this.#p}live`, ...hashes)
        .hdel(`${this.#p}ends`, ...hashes)
        .del(...sets)
        .exec(),
    )
    return removed
  }

  rememberOnce(key: string, ttlMs: number): Promise<boolean> {
    return this.#shared.rememberOnce(key, ttlMs)
  }

  putShared(key: string, value: string, ttlMs: number): Promise<void> {
    return this.#shared.putShared(key, value, ttlMs)
  }

  getShared(key: string): Promise<string | undefined> {
    return this.#shared.getShared(key)
  }

  takeShared(key: string): Promise<string | undefined> {
    return this.#shared.takeShared(key)
  }

  replaceShared(key: string, expected: string, value: string, ttlMs: number): Promise<boolean> {
    return this.#shared.replaceShared(key, expected, value, ttlMs)
  }

  tryLock(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    return this.#shared.tryLock(key, ttlMs)
  }

  /**
   * A connection can stay "ready" while Redis answers nothing (a frozen or overloaded server, a
   * half-open TCP connection): the readiness probe asks with a PING under the command timeout.
   */
  async health(): Promise<StoreHealth> {
    if (this.#redis.status !== 'ready')
      return { ok: false, reason: this.#health.reason ?? `Redis ${this.#redis.status}` }
    try {
      await this.#redis.ping()
      return { ok: true }
    } catch (err) {
      return { ok: false, reason: `Redis does not answer: ${err instanceof Error ? err.message : String(err)}` }
    }
  }

  size(): number {
    return this.#size
  }

  async close(): Promise<void> {
    clearInterval(this.#sizeTimer)
    clearInterval(this.#sweepTimer)
    await this.#redis.quit().catch(() => this.#redis.disconnect())
  }

  async #refreshSize(): Promise<void> {
    try {
      const now = Date.now()
      // Expired entries stay in the index until the sweep reports them: count the live ones only.
      const [card] = (await this.#redis.multi().zcount(`${this.#p}live`, now, '+inf').exec()) ?? []
      if (card && typeof card[1] === 'number') this.#size = card[1]
    } catch {
      // size is a metric only; health() reports the outage
    }
  }
}

const UPDATE_IF_EXISTS = `if redis.call('exists', KEYS[1]) == 0 then return 0 end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('zadd', KEYS[2], ARGV[3], ARGV[4])
redis.call('hset', KEYS[3], ARGV[4], ARGV[5])
return 1`
