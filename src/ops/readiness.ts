// Readiness checks that need a little logic of their own. Structural types: ops/ reads what the
// other rooms expose without importing them.
//
// What makes /readyz fail, and what it only reports. Readiness takes a pod out of the Service;
// a check shared by every replica takes them all out at once, and the ingress then answers its own
// 503 even for public routes the gateway would still serve, with no French page. So:
//   - fail: what is wrong with this pod alone: its configuration, its shutdown (lifecycle), its
//     PSC discovery never loaded (loaded once, then kept: a later PSC outage does not flip it),
//     and the audit trail it cannot write;
//   - report only (ok: false, reportOnly: true, /readyz still 200 with "degraded"): the shared
//     session store, and the hospital's account directory (account-directory.ts). While Redis is
//     down the gateway itself answers protected routes with its 503 page (fail closed) and keeps
//     serving public ones; while the directory is down, routes that need an account get the 503
//     page and the others are served. The outage shows in /readyz, in the
//     psc_gateway_readiness_check_ok{check="sessions"|"accounts"} metric and in the alerts.
import type { CheckResult } from './admin.js'

export interface CheckableStore {
  readonly kind: string
  size(): number
  /** a store backed by a service (Redis) says whether it can reach it; the memory store always can */
  health?(): CheckResult | Promise<CheckResult>
}

export async function sessionStoreCheck(store: CheckableStore): Promise<CheckResult> {
  const health = store.health ? await store.health() : { ok: true }
  if (!health.ok)
    return { ok: false, reportOnly: true, reason: `${store.kind} store: ${health.reason ?? 'unreachable'}` }
  return { ok: true, reason: `${store.kind} store reachable` }
}
