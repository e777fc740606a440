// Readiness checks that need a little logic of their own. Structural types: ops/ reads what the
// other rooms expose without importing them.
import type { CheckResult } from './admin.js'

export interface CheckableStore {
  readonly kind: string
  size(): number
  /** a store backed by a service (Redis) says whether it can reach it; the memory store always can */
  health?(): CheckResult | Promise<CheckResult>
}

export async function sessionStoreCheck(store: CheckableStore): Promise<CheckResult> {
  const health = store.health ? await store.health() : { ok: true }
  if (!health.ok) return { ok: false, reason: `${store.kind} store: ${health.reason ?? 'unreachable'}` }
  return { ok: true, reason: `${store.kind} store reachable` }
}
