// The client certificate's remaining life as a metric, so that an alert fires weeks before PSC
// starts refusing the gateway (an IGC Santé certificate is renewed by hand, through ANS).
import { Counter, Gauge, type Registry } from 'prom-client'
import type { ClientCertificate } from '../config/client-certificate.js'

export const CLIENT_CERTIFICATE_EXPIRY_METRIC = 'psc_gateway_psc_client_certificate_expiry_seconds'
export const CLIENT_CERTIFICATE_RENEWALS_METRIC = 'psc_gateway_psc_client_certificate_renewals_total'

/**
 * Registers the gauge when a client certificate is configured; negative once it has expired. It
 * reads the certificate in use at each scrape: a renewed one shows at once. Returns what counts
 * renewals (reloaded, or refused: files changed but unusable), undefined without a certificate.
 */
export function registerClientCertificateMetric(
  registry: Registry,
  inUse: () => ClientCertificate | undefined,
  now: () => number = Date.now,
): ((outcome: 'reloaded' | 'refused') => void) | undefined {
  if (inUse() === undefined) return undefined
  new Gauge({
    name: CLIENT_CERTIFICATE_EXPIRY_METRIC,
    help: 'Seconds until the client certificate presented to PSC expires (negative: expired)',
    labelNames: ['subject'],
    registers: [registry],
    collect() {
      const certificate = inUse()
      this.reset()
      if (certificate !== undefined)
        this.set({ subject: certificate.info.subject }, Math.round((certificate.info.validTo - now()) / 1000))
    },
  })
  const renewals = new Counter({
    name: CLIENT_CERTIFICATE_RENEWALS_METRIC,
    help: 'Renewed client certificate files read while running: reloaded (in use), refused (unusable, the previous one kept)',
    labelNames: ['outcome'],
    registers: [registry],
  })
  for (const outcome of ['reloaded', 'refused']) renewals.inc({ outcome }, 0)
  return (outcome) => renewals.inc({ outcome })
}
