// The client certificate's remaining life as a metric, so that an alert fires weeks before PSC
// starts refusing the gateway (an IGC Santé certificate is renewed by hand, through ANS).
import { Gauge, type Registry } from 'prom-client'
import type { GatewayConfig } from '../config/types.js'

export const CLIENT_CERTIFICATE_EXPIRY_METRIC = 'psc_gateway_psc_client_certificate_expiry_seconds'

/** Registers the gauge when a client certificate is configured; negative once it has expired. */
export function registerClientCertificateMetric(registry: Registry, psc: GatewayConfig['psc'], now: () => number = Date.now): void {
  const certificate = psc.outbound.certificate
  if (certificate === undefined) return
  new Gauge({
    name: CLIENT_CERTIFICATE_EXPIRY_METRIC,
    help: 'Seconds until the client certificate presented to PSC expires (negative: expired)',
    labelNames: ['subject'],
    registers: [registry],
    collect() {
      this.set({ subject: certificate.info.subject }, Math.round((certificate.info.validTo - now()) / 1000))
    }
  })
}
