// Readiness and metrics of the local-accounts source, apart from the other checks.
// Structural types: ops/ reads what accounts/ exposes without importing it.
import { Counter, Gauge, type Registry } from 'prom-client'
import type { CheckResult } from './admin.js'

export interface CheckableAccountSource {
  readonly kind: string
  health(): CheckResult
}

/**
 * Report only (readiness.ts): the hospital's directory is shared by every replica, so its outage
 * must not take them all out of the Service. While it is down the gateway itself answers: cached
 * accounts up to staleLimit, the 503 page on routes that need an account, the other routes served.
 * /readyz stays 200 with `degraded: ["accounts"]` and the reason; the metrics
 * psc_gateway_readiness_check_ok{check="accounts"} and psc_gateway_account_directory_up say it.
 */
export function accountDirectoryCheck(source: CheckableAccountSource): CheckResult {
  const health = source.health()
  return health.ok ? health : { ...health, reportOnly: true }
}

/** psc_gateway_account_directory_up and psc_gateway_account_lookups_total{outcome}. */
export function registerAccountMetrics(registry: Registry, source: CheckableAccountSource): (outcome: string) => void {
  const lookups = new Counter({
    name: 'psc_gateway_account_lookups_total',
    help: 'Local account lookups at login and session refresh, by outcome (found, none, duplicate, disabled, cached, stale, unavailable)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  })
  new Gauge({
    name: 'psc_gateway_account_directory_up',
    help: '1 while the local-accounts source answers (directory reachable, mapping file valid), 0 otherwise (and before the directory was first contacted)',
    labelNames: ['source'] as const,
    registers: [registry],
    collect() {
      this.set({ source: source.kind }, source.health().ok ? 1 : 0)
    },
  })
  for (const outcome of ['found', 'none', 'duplicate', 'disabled', 'cached', 'stale', 'unavailable'])
    lookups.inc({ outcome }, 0)
  return (outcome) => lookups.inc({ outcome })
}
