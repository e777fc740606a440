// What a configuration change changed, for the audit trail ("config reloaded": routes added,
// removed, changed; upstreams; headers), and a short hash naming the configuration in force, which
// every access event carries, so that a decision can be traced to the rules that made it. Pure.
// Names only, never values: an upstream's static headers may hold a shared secret.
import { createHash } from 'node:crypto'
import { isDeepStrictEqual } from 'node:util'
import type { GatewayConfig } from './types.js'

export interface ConfigChanges {
  routesAdded: string[]
  routesRemoved: string[]
  routesChanged: string[]
  upstreamsAdded: string[]
  upstreamsRemoved: string[]
  upstreamsChanged: string[]
  headersChanged: boolean
  other: string[]
}

/** The parts of a configuration that decide requests (what a reload may change, and the rest). */
type Comparable = Pick<GatewayConfig, 'routes' | 'upstreams' | 'headers'> & Partial<GatewayConfig>

export function describeConfigChanges(prev: Comparable, next: Comparable): ConfigChanges {
  const byName = <T extends { name: string }>(list: T[]) => new Map(list.map((r) => [r.name, r]))
  const a = byName(prev.routes)
  const b = byName(next.routes)
  const routesChanged: string[] = []
  for (const [name, r] of b) {
    const old = a.get(name)
    if (old !== undefined && !isDeepStrictEqual(old, r)) routesChanged.push(name)
  }
  // Same rules in another order decide differently (the first match wins): each moved rule changed.
  const order = (list: { name: string }[], other: Map<string, unknown>) =>
    list.map((r) => r.name).filter((n) => other.has(n))
  const before = order(prev.routes, b)
  const after = order(next.routes, a)
  after.forEach((name, i) => {
    if (before[i] !== name && !routesChanged.includes(name)) routesChanged.push(name)
  })
  const ua = prev.upstreams
  const ub = next.upstreams
  const other: string[] = []
  const skip = new Set(['routes', 'upstreams', 'headers', 'source'])
  for (const key of new Set([...Object.keys(prev), ...Object.keys(next)])) {
    if (skip.has(key)) continue
    if (!isDeepStrictEqual((prev as Record<string, unknown>)[key], (next as Record<string, unknown>)[key]))
      other.push(key)
  }
  return {
    routesAdded: [...b.keys()].filter((n) => !a.has(n)),
    routesRemoved: [...a.keys()].filter((n) => !b.has(n)),
    routesChanged,
    upstreamsAdded: Object.keys(ub).filter((n) => ua[n] === undefined),
    upstreamsRemoved: Object.keys(ua).filter((n) => ub[n] === undefined),
    upstreamsChanged: Object.keys(ub).filter((n) => ua[n] !== undefined && !isDeepStrictEqual(ua[n], ub[n])),
    headersChanged: !isDeepStrictEqual(prev.headers, next.headers),
    other: other.sort(),
  }
}

/**
 * 12 hex characters of SHA-256 over the configuration in force (its file name left out: the same
 * rules loaded from another path are the same configuration). Secrets go into the hash, never out.
 */
export function configHash(config: GatewayConfig): string {
  const { source: _source, ...rest } = config
  return createHash('sha256').update(stableJson(rest)).digest('hex').slice(0, 12)
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(v) ?? 'null'
}
