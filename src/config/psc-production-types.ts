// The converted form of the psc keys added for production: outbound proxy, CA bundle,
// client certificate, ANS onboarding facts.
import type { CertificateInfo, ClientCertificate } from './client-certificate.js'

/** Which outbound proxy carries the calls to PSC. */
export type OutboundProxySetting =
  | { kind: 'environment' }
  | { kind: 'direct' }
  | { kind: 'configured'; url: string; username?: string; password?: string; noProxy: string[] }

export interface PscOutboundSettings {
  proxy: OutboundProxySetting
  /** extra CAs trusted for calls to PSC (PEM), beside the system ones */
  ca?: { file: string; pem: string; certificates: CertificateInfo[] }
  /** the mTLS client certificate (clientAuth tls_client_auth) */
  certificate?: ClientCertificate
}

export interface PscOnboardingSettings {
  serviceName?: string
  registered?: { redirectUris?: string[]; postLogoutRedirectUris?: string[] }
  expectedUsers?: number
  /** empty: PSC is the only way in */
  otherAuthenticationMeans: string[]
}
