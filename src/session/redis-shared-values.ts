// The values replicas share through Redis besides sessions: keys remembered once, shared values taken
// or replaced atomically (so two replicas asking at once never both get one), and short locks.
import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import { storeCommand } from './redis-connection.js'
import { SessionStoreUnavailable } from './store.js'

export class RedisSharedValues {
  readonly #redis: Redis
  readonly #p: string

  constructor(redis: Redis, keyPrefix: string) {
    this.#redis = redis
    this.#p = keyPrefix
  }

  async rememberOnce(key: string, ttlMs: number): Promise<boolean> {
    const ok = await storeCommand(() =>
      this.#redis.set(`${this.#p}once:${key}`, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'),
    )
    return ok === 'OK'
  }

  async putShared(key: string, value: string, ttlMs: number): Promise<void> {
    await storeCommand(() => this.#redis.set(`${this.#p}shared:${key}`, value, 'PX', Math.max(1, Math.ceil(ttlMs))))
  }

  async getShared(key: string): Promise<string | undefined> {
    return (await storeCommand(() => this.#redis.get(`${this.#p}shared:${key}`))) ?? undefined
  }

  async takeShared(key: string): Promise<string | undefined> {
    // GET and DEL in one transaction (GETDEL needs Redis 6.2): two replicas asking at once, one gets it.
    const k = `${this.#p}shared:${key}`
    const replies = await storeCommand(() => this.#redis.multi().get(k).del(k).exec())
    const [error, value] = replies?.[0] ?? [null, null]
    if (error) throw new SessionStoreUnavailable(error.message)
    return typeof value === 'string' ? value : undefined
  }

  async replaceShared(key: string, expected: string, value: string, ttlMs: number): Promise<boolean> {
    const replaced = await storeCommand(() =>
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
    const ok = await storeCommand(() => this.#redis.set(k, token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'))
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
}
