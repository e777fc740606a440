// The HTTPS server's TLS settings when the gateway serves HTTPS itself: TLS 1.2 at the oldest (1.3
// negotiated whenever the client has it), forward-secret AEAD ciphers only, the server's order.
import type { SecureContextOptions, TlsOptions } from 'node:tls'
import { loadServerCertificate, type ServerCertificate } from '../config/server-certificate.js'
import type { ListenTls } from '../config/sections/server.js'

/** TLS 1.2 suites: ECDHE with AES-GCM or ChaCha20-Poly1305 (no CBC, no RSA key exchange, no SHA-1). */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
]
const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']

/** What setSecureContext takes: the certificate and the protocol settings that go with it. */
export function secureContextOptions(tls: ListenTls, certificate: ServerCertificate): SecureContextOptions {
  return {
    cert: certificate.cert,
    key: certificate.key,
    minVersion: tls.minVersion,
    ciphers: [...TLS13_SUITES, ...TLS12_CIPHERS].join(':'),
    honorCipherOrder: true,
  }
}

/** The https options fastify creates its server with; the files passed `check` already. */
export function httpsServerOptions(tls: ListenTls): TlsOptions {
  return { ...secureContextOptions(tls, loadServerCertificate(tls)), ALPNProtocols: ['http/1.1'] }
}

/** The Strict-Transport-Security value, or undefined when it is turned off (maxAge 0). */
export function hstsHeader(tls: ListenTls): string | undefined {
  if (tls.hsts.maxAge === 0) return undefined
  return `max-age=${tls.hsts.maxAge}${tls.hsts.includeSubDomains ? '; includeSubDomains' : ''}`
}
