// Picks the session store the configuration asks for.
import { readFileSync } from 'node:fs'
import type { GatewayConfig } from '../config/types.js'
import { MemorySessionStore } from './memory-store.js'
import { RedisSessionStore } from './redis-store.js'
import type { SessionStore } from './store.js'

export function createSessionStore(settings: GatewayConfig['session']['store']): SessionStore {
  if (settings.type === 'memory') return new MemorySessionStore(settings.maxSessions)
  if (!settings.url && !settings.sentinel)
    throw new Error('session.store.url or session.store.sentinel is required for the redis store')
  const tls = settings.url ? settings.url.startsWith('rediss://') : settings.tlsCaFile !== undefined
  return new RedisSessionStore({
    url: settings.url,
    keyPrefix: settings.keyPrefix,
    commandTimeoutMs: settings.commandTimeoutMs,
    tls: tls ? { ca: settings.tlsCaFile ? readFileSync(settings.tlsCaFile, 'utf8') : undefined } : undefined,
    sentinel: settings.sentinel,
  })
}
