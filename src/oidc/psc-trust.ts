// What the gateway trusts for PSC's server certificate: the system roots and psc.tls.ca, nothing
// else. OpenSSL adds the CA certificates a PKCS#12 file carries to the connection's trust store:
// without the check below, a client certificate's chain would vouch for whatever server answers.
import { X509Certificate } from 'node:crypto'
import { checkServerIdentity, type PeerCertificate } from 'node:tls'
import * as tls from 'node:tls'
import { readFileSync } from 'node:fs'
import type { CertificateInfo, ClientCertificate } from '../config/client-certificate.js'

/** Node's code for this refusal: TLS_CODE in outbound-http.ts reads it as a TLS failure with PSC. */
export const UNTRUSTED_CHAIN_CODE = 'ERR_TLS_CHAIN_NOT_TRUSTED_FOR_PSC'

function fingerprintsOf(pems: readonly string[]): Set<string> {
  const out = new Set<string>()
  for (const pem of pems) {
    for (const block of pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) {
      try {
        out.add(new X509Certificate(block).fingerprint256)
      } catch {
        /* not a certificate: cannot be an anchor */
      }
    }
  }
  return out
}

/** The anchors a server chain may end at: Node's roots, the system's (when Node reads them), NODE_EXTRA_CA_CERTS, psc.tls.ca. */
function trustedAnchors(roots: readonly string[], ca: { pem: string } | undefined): Set<string> {
  const pems = [...roots]
  const getCa = (tls as { getCACertificates?: (kind: string) => string[] }).getCACertificates
  if (typeof getCa === 'function') {
    for (const kind of ['system', 'extra']) {
      try {
        pems.push(...getCa(kind))
      } catch {
        /* not offered by this Node */
      }
    }
  }
  const extra = process.env.NODE_EXTRA_CA_CERTS
  if (extra !== undefined && extra !== '') {
    try {
      pems.push(readFileSync(extra, 'utf8'))
    } catch {
      /* Node itself warned at start-up */
    }
  }
  if (ca !== undefined) pems.push(ca.pem)
  return fingerprintsOf(pems)
}

/** The top of the chain OpenSSL verified (the anchor it ended at). */
function anchorOf(cert: PeerCertificate): PeerCertificate {
  let top = cert as PeerCertificate & { issuerCertificate?: PeerCertificate }
  for (let i = 0; i < 16; i++) {
    const up = top.issuerCertificate as (PeerCertificate & { issuerCertificate?: PeerCertificate }) | undefined
    if (up === undefined || up === top || up.fingerprint256 === top.fingerprint256) break
    top = up
  }
  return top
}

/**
 * node:tls options for every connection to PSC. With a PKCS#12 file (the only form whose chain
 * OpenSSL turns into trust), the verified chain must also end at an anchor of the system or of
 * psc.tls.ca.
 */
export function tlsOptionsFor(
  ca: { pem: string; certificates?: CertificateInfo[] } | undefined,
  certificate: ClientCertificate | undefined,
  roots: readonly string[],
): Record<string, unknown> {
  const options: Record<string, unknown> = {}
  // Node's `ca` replaces the system roots: keep them, and add the hospital's.
  if (ca !== undefined) options.ca = [...roots, ca.pem]
  if (certificate?.pfx) Object.assign(options, { pfx: certificate.pfx, passphrase: certificate.passphrase })
  else if (certificate?.cert)
    Object.assign(options, { cert: certificate.cert, key: certificate.key, passphrase: certificate.passphrase })
  if (certificate?.pfx !== undefined) {
    const anchors = trustedAnchors(roots, ca)
    options.checkServerIdentity = (host: string, cert: PeerCertificate): Error | undefined => {
      const wrongName = checkServerIdentity(host, cert)
      if (wrongName !== undefined) return wrongName
      const anchor = anchorOf(cert)
      if (anchors.has(anchor.fingerprint256)) return undefined
      const subject = Object.entries(anchor.subject ?? {})
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(', ')
      return Object.assign(
        new Error(
          `PSC's certificate chain ends at ${subject || 'an unknown CA'}, which only the PKCS#12 file's own chain vouches for: PSC's server is trusted through psc.tls.ca or the system's CAs, never through the client certificate's chain`,
        ),
        { code: UNTRUSTED_CHAIN_CODE },
      )
    }
  }
  return options
}
