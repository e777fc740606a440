// The connection to Redis the session store uses: fail fast while Redis is unreachable (no offline
// queue, one retry, a command timeout), reconnect for ever, over TLS or through Sentinel; and the one
// way a command's failure is told to the gateway (SessionStoreUnavailable: the gate answers 503).
import { Redis, type RedisOptions } from 'ioredis'
import { SessionStoreUnavailable } from './store.js'

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

export function openRedis(settings: RedisStoreSettings): Redis {
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
  if (settings.sentinel) return new Redis({ ...options, ...(settings.url ? redisUrlParts(settings.url) : {}) })
  if (settings.url) return new Redis(settings.url, options)
  throw new Error('the redis store needs a URL or Sentinels')
}

/** Runs a command; its failure (Redis down, timeout) is the store's unavailability. */
export async function storeCommand<T>(command: () => Promise<T>): Promise<T> {
  try {
    return await command()
  } catch (err) {
    throw new SessionStoreUnavailable(err instanceof Error ? err.message : String(err))
  }
}

function redisUrlParts(url: string): RedisOptions {
  const u = new URL(url)
  const db = Number(u.pathname.slice(1) || 0)
  return {
    username: u.username || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: Number.isFinite(db) ? db : 0,
  }
}
