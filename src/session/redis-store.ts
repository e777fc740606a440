// The shared store for several replicas, on Redis (ioredis). Keys are a hash of the session id, so
// a dump of Redis hands out no usable cookie. Commands fail fast while Redis is unreachable (no
// offline queue): the gate then answers 503 instead of waiting or, worse, treating it as "no session".
import { createHash, randomBytes } from 'node:crypto'
import { Redis, type RedisOptions } from 'ioredis'
import { LRUCache } from 'lru-cache'
import {
  SessionStoreUnavailable,
  summaryOf,
  type SessionRecord,
  type SessionStore,
  type SessionSummary,
  type StoreEndedSession,
  type StoreHealth,
} from './store.js'

export interface RedisStoreSettings {
  /** required without Sentinel; with Sentinel optional (credentials, database) */
  url?: string
  keyPrefix: string
  /** per-command timeout */
  commandTimeoutMs: number
  tls?: { ca?: string; rejectUnauthorized?: boolean }
  /** Sentinel: when set, `url` names the credentials/db only and these are asked for the master */
  sentinel?: { name: string; hosts: Array<{ host: string; port: number }> }
}

/** How long back-channel indexes live: longer than any session can. */
export const INDEX_TTL_MS = 48 * 3600_000

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
  #sweepTimer: NodeJS.Timeout
  #onEnded: ((ended: StoreEndedSession) => void) | undefined
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
    const options: RedisOptions = {
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: settings.commandTimeoutMs,
      connectTimeout: Math.max(1000, settings.commandTimeoutMs * 2),
      // Reconnect for ever, never faster than every 100 ms nor slower than every 2 s.
      retryStrategy: (times) => Math.min(2000, 100 * times),
      ...(settings.tls
        ? { tls: { ca: settings.tls.ca, rejectUnauthorized: settings.tls.rejectUnauthorized ?? true } }
        : {}),
      ...(settings.sentinel ? { sentinels: settings.sentinel.hosts, name: settings.sentinel.name } : {}),
    }
    if (settings.sentinel) this.#redis = new Redis({ ...options, ...(settings.url ? redisUrlParts(settings.url) : {}) })
    else if (settings.url) this.#redis = new Redis(settings.url, options)
    else throw new Error('the redis store needs a URL or Sentinels')
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
    this.#sweepTimer = this.#startSweep(30_000)
  }

  /**
   * Expired sessions vanish from Redis without a word: the `live` index (session hash → expiry time)
   * and the `ends` hash (what the audit needs of each session) let a sweep find them. Every replica
   * sweeps; the one whose ZREM removes an entry reports it, so each end is reported once.
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
    if (this.#redis.status !== 'ready') return
    const due = await this.#redis.zrangebyscore(`${this.#p}live`, 0, Date.now(), 'LIMIT', 0, 1000)
    if (due.length === 0) return
    // The score comes from a replica's clock: a key that still exists was renewed or is not quite gone.
    const exists = (await this.#redis.multi(due.map((h) => ['exists', `${this.#p}s:${h}`])).exec()) ?? []
    for (let i = 0; i < due.length; i++) {
      if (exists[i]?.[1] === 1) continue
      const h = due[i]!
      const [removed, meta] =
        (await this.#redis
          .multi()
          .zrem(`${this.#p}live`, h)
          .hget(`${this.#p}ends`, h)
          .hdel(`${this.#p}ends`, h)
          .exec()) ?? []
      if (removed?.[1] !== 1 || typeof meta?.[1] !== 'string') continue
      try {
        const m = JSON.parse(meta[1]) as Omit<StoreEndedSession, 'why'>
        await this.#redis.srem(`${this.#p}idnat:${m.idNat}`, h).catch(() => undefined)
        this.#onEnded?.({
          ref: m.ref,
          idNat: m.idNat,
          profession: m.profession,
          createdAt: m.createdAt,
          lastSeenAt: m.lastSeenAt,
          why: 'expired',
        })
      } catch {
        // not ours to judge: a damaged entry is skipped
      }
    }
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
    const raw = await this.#run(() => this.#redis.get(`${this.#p}s:${this.#hashOf(id)}`))
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
    for (const key of this.#indexKeys(record)) m.sadd(key, h).pexpire(key, INDEX_TTL_MS)
    await this.#run(() => m.exec())
  }

  async update(id: string, record: SessionRecord, ttlMs: number): Promise<boolean> {
    const h = this.#hashOf(id)
    const ttl = Math.max(1, Math.ceil(ttlMs))
    // One script, so that a session deleted by another replica (revoked) is never written back.
    const written = await this.#run(() =>
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
    return (await this.#live(filter)).map(([, summary]) => summary)
  }

  async deleteByRefs(refs: string[]): Promise<SessionSummary[]> {
    const ended: SessionSummary[] = []
    for (const ref of new Set(refs)) {
      for (const [h, summary] of await this.#withRef(ref)) {
        const replies = await this.#run(() =>
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

  /**
   * A reference is the start of its session's key hash (the same SHA-256 of the id, ids.ts): Redis
   * finds it by HSCAN MATCH on the ends hash, sending back only what matches.
   */
  async #withRef(ref: string): Promise<Array<[string, SessionSummary]>> {
    if (!/^[A-Za-z0-9_-]+$/.test(ref)) return []
    const found: Array<[string, SessionSummary]> = []
    let cursor = '0'
    do {
      const [next, fields] = await this.#run(() =>
        this.#redis.hscan(`${this.#p}ends`, cursor, 'MATCH', `${ref}*`, 'COUNT', 5000),
      )
      for (let i = 0; i + 1 < fields.length; i += 2) {
        const summary = summaryIn(fields[i + 1]!)
        if (summary?.ref === ref) found.push([fields[i]!, summary])
      }
      cursor = next
    } while (cursor !== '0')
    return found
  }

  async #live(filter: { idNat?: string }): Promise<Array<[string, SessionSummary]>> {
    const now = Date.now()
    let hashes: string[]
    if (filter.idNat === undefined) {
      hashes = await this.#run(() => this.#redis.zrangebyscore(`${this.#p}live`, `(${now}`, '+inf'))
    } else {
      const members = await this.#run(() => this.#redis.smembers(`${this.#p}idnat:${filter.idNat}`))
      if (members.length === 0) return []
      // ZSCORE one by one (ZMSCORE needs Redis 6.2), in one round trip
      const scores =
        (await this.#run(() => this.#redis.multi(members.map((h) => ['zscore', `${this.#p}live`, h])).exec())) ?? []
      hashes = members.filter((_h, i) => Number(scores[i]?.[1] ?? 0) > now)
    }
    if (hashes.length === 0) return []
    const entries = await this.#run(() => this.#redis.hmget(`${this.#p}ends`, ...hashes))
    const live: Array<[string, SessionSummary]> = []
    entries.forEach((entry, i) => {
      const summary = entry === null ? undefined : summaryIn(entry)
      if (summary !== undefined) live.push([hashes[i]!, summary])
    })
    return live
  }

  #indexKeys(record: SessionRecord): string[] {
    return [
      ...(record.pscSid ? [`${this.#p}sid:${record.pscSid}`] : []),
      `${this.#p}sub:${record.identity.sub}`,
      `${this.#p}idnat:${record.identity.idNat}`,
    ]
  }

  async delete(id: string): Promise<void> {
    const h = this.#hashOf(id)
    await this.#run(() =>
      this.#redis.multi().del(`${this.#p}s:${h}`).zrem(`${this.#p}live`, h).hdel(`${this.#p}ends`, h).exec(),
    )
  }

  async deleteWhere(match: { sid?: string; sub?: string }): Promise<number> {
    const sets = [
      match.sid ? `${this.#p}sid:${match.sid}` : undefined,
      match.sub ? `${this.#p}sub:${match.sub}` : undefined,
    ].filter((k): k is string => !!k)
    if (sets.length === 0) return 0
    const hashes = await this.#run(() => this.#redis.sunion(...sets))
    if (hashes.length === 0) return 0
    const removed = await this.#run(() => this.#redis.del(...hashes.map((h) => `${this.#p}s:${h}`)))
    await this.#run(() =>
      this.#redis
        .multi()
        .zrem(`${this.#p}live`, ...hashes)
        .hdel(`${this.#p}ends`, ...hashes)
        .del(...sets)
        .exec(),
    )
    return removed
  }

  async rememberOnce(key: string, ttlMs: number): Promise<boolean> {
    const ok = await this.#run(() =>
      this.#redis.set(`${this.#p}once:${key}`, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'),
    )
    return ok === 'OK'
  }

  async putShared(key: string, value: string, ttlMs: number): Promise<void> {
    await this.#run(() => this.#redis.set(`${this.#p}shared:${key}`, value, 'PX', Math.max(1, Math.ceil(ttlMs))))
  }

  async getShared(key: string): Promise<string | undefined> {
    return (await this.#run(() => this.#redis.get(`${this.#p}shared:${key}`))) ?? undefined
  }

  async takeShared(key: string): Promise<string | undefined> {
    // GET and DEL in one transaction (GETDEL needs Redis 6.2): two replicas asking at once, one gets it.
    const k = `${this.#p}shared:${key}`
    const replies = await this.#run(() => this.#redis.multi().get(k).del(k).exec())
    const [error, value] = replies?.[0] ?? [null, null]
    if (error) throw new SessionStoreUnavailable(error.message)
    return typeof value === 'string' ? value : undefined
  }

  async replaceShared(key: string, expected: string, value: string, ttlMs: number): Promise<boolean> {
    const replaced = await this.#run(() =>
      this.#redis.eval(
        "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 else return 0 end",
        1,
        `${this.#p}shared:${key}`,
        expected,
        value,
        String(Math.max(1, Math.ceil(ttlMs))),
      ),
    )
    return replaced === 1
  }

  async tryLock(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    const token = randomBytes(12).toString('base64url')
    const k = `${this.#p}lock:${key}`
    const ok = await this.#run(() => this.#redis.set(k, token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'))
    if (ok !== 'OK') return undefined
    // Release only our own lock, atomically (it may have expired and been taken by another replica).
    return async () => {
      await this.#redis
        .eval(
          "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
          1,
          k,
          token,
        )
        .catch(() => undefined)
    }
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

  async #run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command()
    } catch (err) {
      throw new SessionStoreUnavailable(err instanceof Error ? err.message : String(err))
    }
  }
}

/** What the sweep reports of an expired session, and what the admin list shows of a live one. */
function endsEntry(record: SessionRecord): string {
  const ended: Omit<StoreEndedSession, 'why'> = {
    ref: record.ref,
    idNat: record.identity.idNat,
    profession: record.identity.exercices[0]?.professionCode,
    createdAt: record.createdAt,
    lastSeenAt: record.lastSeenAt,
  }
  return JSON.stringify({ ...ended, summary: summaryOf(record) })
}

/** The summary in an ends entry; undefined for a damaged one (skipped, as by the sweep). */
function summaryIn(entry: string): SessionSummary | undefined {
  try {
    return (JSON.parse(entry) as { summary?: SessionSummary }).summary
  } catch {
    return undefined
  }
}

const UPDATE_IF_EXISTS = `if redis.call('exists', KEYS[1]) == 0 then return 0 end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('zadd', KEYS[2], ARGV[3], ARGV[4])
redis.call('hset', KEYS[3], ARGV[4], ARGV[5])
return 1`

function redisUrlParts(url: string): RedisOptions {
  const u = new URL(url)
  const db = Number(u.pathname.slice(1) || 0)
  return {
    username: u.username || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: Number.isFinite(db) ? db : 0,
  }
}
