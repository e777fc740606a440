// doctor's view of mTLS: where the token request goes (RFC 8705's mtls_endpoint_aliases when the
// client authenticates by certificate), and a connection PSC closes over the client certificate told
// as a certificate problem, not as a network one.
import type { GatewayConfig } from '../config/types.js'
import { diagnoseFailure } from '../oidc/client-certificate-probe.js'
import type { OutboundFailure, OutboundHttp } from '../oidc/outbound-http.js'
import { PSC_ERR_CLIENT_CERTIFICATE_REFUSED } from '../errors.js'

/** The token endpoint the gateway calls: the mTLS alias with tls_client_auth, when PSC publishes one. */
export function tokenEndpointOf(m: Record<string, unknown>, psc: GatewayConfig['psc']): string {
  const aliases = m.mtls_endpoint_aliases
  const alias =
    psc.clientAuth === 'tls_client_auth' && typeof aliases === 'object' && aliases !== null
      ? (aliases as Record<string, unknown>).token_endpoint
      : undefined
  return typeof alias === 'string' ? alias : String(m.token_endpoint)
}

/** A failed call, told precisely (a probe when PSC closed the connection over the certificate). */
export function diagnose(
  http: OutboundHttp,
  err: unknown,
  url: string | URL,
  timeoutMs: number,
): Promise<OutboundFailure> {
  return diagnoseFailure(http, err, url, timeoutMs)
}

export function isCertificateRefusal(failure: OutboundFailure): boolean {
  return failure.code === PSC_ERR_CLIENT_CERTIFICATE_REFUSED
}
