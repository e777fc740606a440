// Readiness and metrics of the local-accounts source (issue 17), apart from the other checks.
// Structural types: ops/ reads what accounts/ exposes without importing it.
import { Counter, Gauge, type Registry } from 'prom-client'
import type { CheckResult } from './admin.js'

export interface CheckableAccountSource {
  readonly kind: string
  health (): CheckResult
}

/** Not ready while the directory does not answer (logins needing an account get the 503 page). */
export function accountDirectoryCheck (source: CheckableAccountSource): CheckResult {
  return source.health()
}

/** psc_gateway_account_directory_up and psc_gateway_account_lookups_total{outcome}. */
export function registerAccountMetrics (registry: Registry, source: CheckableAccountSource): (outcome: string) => void {
  const lookups = new Counter({
    name: 'psc_gateway_account_lookups_total',
    help: 'Local account lookups at login and session refresh, by outcome (found, none, cached, stale, unavailable)',
    labelNames: ['outcome'] as const,
    registers: [registry]
  })
  new Gauge({
    name: 'psc_gateway_account_directory_up',
    help: '1 while the local-accounts source answers (directory reachable, mapping file valid), 0 otherwise',
    labelNames: ['source'] as const,
    registers: [registry],
    collect () {
      this.set({ source: source.kind }, source.health().ok ? 1 : 0)
    }
  })
  for (const outcome of ['found', 'none', 'cached', 'stale', 'unavailable']) lookups.inc({ outcome }, 0)
  return (outcome) => lookups.inc({ outcome })
}
