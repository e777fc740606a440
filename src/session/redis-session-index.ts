// The indexes beside the session records in Redis: the live index (session hash → expiry time) and
// the ends hash (what the audit and the admin list need of each session, never its tokens), with the
// back-channel indexes (by PSC sid, sub and idNat). The admin list and revocation read them, and the
// sweep finds the sessions that expired without a word.
import type { Redis } from 'ioredis'
import { storeCommand } from './redis-connection.js'
import { summaryOf, type SessionRecord, type SessionSummary, type StoreEndedSession } from './store.js'

/** How long back-channel indexes live: longer than any session can. */
export const INDEX_TTL_MS = 48 * 3600_000

export class RedisSessionIndex {
  readonly #redis: Redis
  readonly #p: string

  constructor(redis: Redis, keyPrefix: string) {
    this.#redis = redis
    this.#p = keyPrefix
  }

  /**
   * Reports each expired session once: every replica sweeps; the one whose ZREM removes an entry
   * reports it.
   */
  async sweep(onEnded: ((ended: StoreEndedSession) => void) | undefined): Promise<void> {
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
        onEnded?.({
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

  /**
   * A reference is the start of its session's key hash (the same SHA-256 of the id, ids.ts): Redis
   * finds it by HSCAN MATCH on the ends hash, sending back only what matches.
   */
  async withRef(ref: string): Promise<Array<[string, SessionSummary]>> {
    if (!/^[A-Za-z0-9_-]+$/.test(ref)) return []
    const found: Array<[string, SessionSummary]> = []
    let cursor = '0'
    do {
      const [next, fields] = await storeCommand(() =>
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

  /** The sessions not yet expired (of one practitioner, with an idNat), with their summaries. */
  async live(filter: { idNat?: string }): Promise<Array<[string, SessionSummary]>> {
    const now = Date.now()
    let hashes: string[]
    if (filter.idNat === undefined) {
      hashes = await storeCommand(() => this.#redis.zrangebyscore(`${this.#p}live`, `(${now}`, '+inf'))
    } else {
      const members = await storeCommand(() => this.#redis.smembers(`${this.#p}idnat:${filter.idNat}`))
      if (members.length === 0) return []
      // ZSCORE one by one (ZMSCORE needs Redis 6.2), in one round trip
      const scores =
        (await storeCommand(() => this.#redis.multi(members.map((h) => ['zscore', `${this.#p}live`, h])).exec())) ?? []
      hashes = members.filter((_h, i) => Number(scores[i]?.[1] ?? 0) > now)
    }
    if (hashes.length === 0) return []
    const entries = await storeCommand(() => this.#redis.hmget(`${this.#p}ends`, ...hashes))
    const live: Array<[string, SessionSummary]> = []
    entries.forEach((entry, i) => {
      const summary = entry === null ? undefined : summaryIn(entry)
      if (summary !== undefined) live.push([hashes[i]!, summary])
    })
    return live
  }

  /** The back-channel and practitioner index keys a record is listed under. */
  keysOf(record: SessionRecord): string[] {
    return [
      ...(record.pscSid ? [`${this.#p}sid:${record.pscSid}`] : []),
      `${this.#p}sub:${record.identity.sub}`,
      `${this.#p}idnat:${record.identity.idNat}`,
    ]
  }
}

/** What the sweep reports of an expired session, and what the admin list shows of a live one. */
export function endsEntry(record: SessionRecord): string {
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
