// What a reload may change: routes (and the establishments they name), upstreams, headers. Everything else (listeners, PSC client,
// cookies and secrets, session store, limits) is wired at start-up and needs a restart.
import { isDeepStrictEqual } from 'node:util'
import type { GatewayConfig } from './types.js'

const RELOADABLE = new Set<keyof GatewayConfig>(['routes', 'structures', 'upstreams', 'headers', 'source', 'log'])

/** The top-level keys that differ and cannot be reloaded; empty when the reload may go ahead. */
export function describeReloadBlockers(current: GatewayConfig, next: GatewayConfig): string[] {
  const keys = new Set([...Object.keys(current), ...Object.keys(next)] as Array<keyof GatewayConfig>)
  const blockers: string[] = []
  for (const key of keys) {
    if (RELOADABLE.has(key)) continue
    if (!isDeepStrictEqual(current[key], next[key])) blockers.push(key)
  }
  // WebSocket support is registered once with the proxy: turning it on needs a restart.
  for (const [name, u] of Object.entries(next.upstreams)) {
    if (u.websocket && !Object.values(current.upstreams).some((c) => c.websocket))
      blockers.push(`upstreams.${name}.websocket`)
  }
  return blockers
}
