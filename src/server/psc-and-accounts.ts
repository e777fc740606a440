// The PSC client and the local-account resolver, each wired to the audit trail and the metrics it reports to.
import type { Logger } from 'pino'
import { createAccountResolver, type AccountResolver } from '../accounts/resolver.js'
import type { AuditTrail } from '../audit/trail.js'
import { PscClient } from '../oidc/psc-client.js'
import type { GatewayConfig } from '../config/types.js'
import { registerAccountMetrics } from '../ops/account-directory.js'
import { registerClientCertificateMetric } from '../ops/client-certificate-metric.js'
import type { GatewayMetrics } from '../ops/metrics.js'

interface Wiring {
  config: GatewayConfig
  logger: Logger
  metrics: GatewayMetrics
  audit: AuditTrail
  now: () => number
}

/** Each renewal of the client certificate (or its refusal) is counted and goes to the audit trail. */
export function createPscClient({ config, logger, metrics, audit, now }: Wiring): PscClient {
  let countRenewal: ((outcome: 'reloaded' | 'refused') => void) | undefined
  const psc = new PscClient(config.psc, logger, metrics.psc, process.env, (renewal) => {
    const c = renewal.outcome === 'renewed' ? renewal.certificate : renewal.current
    const clientCertificate = {
      file: c.source,
      subject: c.info.subject,
      issuer: c.info.issuer,
      serialNumber: c.info.serialNumber,
      expires: new Date(c.info.validTo).toISOString(),
      ...(renewal.outcome === 'renewed' && { previousSerialNumber: renewal.previous.info.serialNumber }),
    }
    const outcome = renewal.outcome === 'renewed' ? 'reloaded' : 'refused'
    countRenewal?.(outcome)
    void audit.emit({
      event: 'config',
      outcome,
      source: config.source,
      clientCertificate,
      ...(renewal.outcome === 'refused' && { reason: renewal.error }),
    })
  })
  countRenewal = registerClientCertificateMetric(metrics.registry, () => psc.certificate, now)
  return psc
}

/** Local accounts: looked up at login and with the session's refresh, never per request. */
export function createAccounts({ config, logger, metrics, now }: Omit<Wiring, 'audit'>): AccountResolver | undefined {
  if (config.accounts === undefined) return undefined
  let observeAccount: (outcome: string) => void = () => {}
  const accounts = createAccountResolver(config.accounts, { now, log: logger, observe: (o) => observeAccount(o) })
  observeAccount = registerAccountMetrics(metrics.registry, accounts)
  return accounts
}
