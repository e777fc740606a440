// A store for @fastify/rate-limit that counts for the whole gateway, not per process: in the primary (memory session store) or in Redis.
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import { LRUCache } from 'lru-cache'
import { RedisSessionStore } from '../session/redis-store.js'
import { SessionStoreUnavailable, type SessionStore } from '../session/store.js'
import { typedHandlers } from './primary-store.js'
import type { RpcPeer } from './rpc.js'

/** The count of `key` in its window with this hit, and the milliseconds left in that window. */
export interface WindowCount {
  current: number
  ttl: number
}

/**
 * Fixed windows, as the plugin's own store counts by default: the first hit opens a window of
 * `windowMs`; every hit in it counts, the next one after it opens a new window.
 */
export interface RateCounter {
  hit(key: string, windowMs: number): Promise<WindowCount>
}

const RATE_HIT = 'rate.hit'

/**
 * The store class @fastify/rate-limit constructs (`store` option). Each route with a limit gets
 * its own child, counted apart (as the plugin's stores do). A counter that cannot answer fails the
 * request closed: SessionStoreUnavailable, a 503, never an uncounted pass.
 */
export function sharedRateLimitStore(counter: RateCounter): FastifyRateLimitStoreCtor {
  class SharedRateLimitStore implements FastifyRateLimitStore {
    constructor(
      _options: unknown,
      readonly route = '',
    ) {}

    incr(key: string, callback: (error: Error | null, result?: WindowCount) => void, timeWindow: number): void {
      counter.hit(`${this.route}${key}`, timeWindow).then(
        (count) => callback(null, count),
        (err: unknown) =>
          callback(
            err instanceof SessionStoreUnavailable
              ? err
              : new SessionStoreUnavailable(`rate limit: ${err instanceof Error ? err.message : String(err)}`),
          ),
      )
    }

    child(routeOptions: object): FastifyRateLimitStore {
      const o = routeOptions as {
        continueExceeding?: boolean
        exponentialBackoff?: boolean
        routeInfo?: { method?: unknown; url?: unknown }
      }
      // Windows that restart or grow while exceeded are counted by the plugin's own stores only.
      if (o.continueExceeding === true || o.exponentialBackoff === true)
        throw new Error('the shared rate-limit store counts fixed windows only')
      return new SharedRateLimitStore(routeOptions, `${String(o.routeInfo?.method)} ${String(o.routeInfo?.url)} `)
    }
  }
  return SharedRateLimitStore as unknown as FastifyRateLimitStoreCtor
}

/** The counts, held by the primary for all its workers: bounded (the least recently counted go first). */
export class WindowCounts implements RateCounter {
  readonly #windows: LRUCache<string, { count: number; start: number }>

  constructor(
    max = 100_000,
    private readonly now: () => number = Date.now,
  ) {
    this.#windows = new LRUCache({ max })
  }

  async hit(key: string, windowMs: number): Promise<WindowCount> {
    return this.hitNow(key, windowMs)
  }

  hitNow(key: string, windowMs: number): WindowCount {
    const now = this.now()
    const w = this.#windows.get(key)
    if (w === undefined || w.start + windowMs <= now) {
      this.#windows.set(key, { count: 1, start: now })
      return { current: 1, ttl: windowMs }
    }
    w.count++
    return { current: w.count, ttl: w.start + windowMs - now }
  }

  /** Counts the hits of the worker at the other end of `peer`. */
  serve(peer: RpcPeer): void {
    typedHandlers(peer, { [RATE_HIT]: ['string', 'window'] }).handle(RATE_HIT, (key: string, windowMs: number) =>
      this.hitNow(key, windowMs),
    )
  }
}

/** A worker's counter: every hit counted in the primary. */
export function primaryRateCounter(peer: RpcPeer): RateCounter {
  return { hit: (key, windowMs) => peer.call<WindowCount>(RATE_HIT, key, windowMs) }
}

/** One script, so that the count and its window's expiry are set together by whichever process hits first. */
const HIT = `local c = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if c == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {c, ttl}`

/** Counts in the Redis of the session store, on its connection (fails fast while Redis is unreachable). */
export function redisRateCounter(store: RedisSessionStore): RateCounter {
  const { connection, keyPrefix } = store.redis
  return {
    async hit(key, windowMs) {
      try {
        const [current, ttl] = (await connection.eval(
          HIT,
          1,
          `${keyPrefix}rate:${key}`,
          String(Math.max(1, Math.ceil(windowMs))),
        )) as [number, number]
        return { current, ttl }
      } catch (err) {
        throw new SessionStoreUnavailable(err instanceof Error ? err.message : String(err))
      }
    },
  }
}

/**
 * The rate-limit store a worker gives buildGateway (options.rateLimitStore): in Redis with the
 * Redis session store, else in the primary at the other end of `peer`.
 */
export function rateLimitStoreFor(store: SessionStore, peer: RpcPeer): FastifyRateLimitStoreCtor {
  return sharedRateLimitStore(store instanceof RedisSessionStore ? redisRateCounter(store) : primaryRateCounter(peer))
}
