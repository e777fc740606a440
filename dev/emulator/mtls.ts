// RFC 8705 tls_client_auth in the emulator: oidc-provider asks for the client certificate, whether
// it was verified against the test CA, and whether its subject is the one registered for the client.
import { X509Certificate } from 'node:crypto'
import type { TLSSocket } from 'node:tls'

interface Ctx {
  req: { socket: unknown }
}

function tlsSocket(ctx: Ctx): TLSSocket | undefined {
  const s = ctx.req.socket as Partial<TLSSocket>
  return typeof s.getPeerCertificate === 'function' ? (s as TLSSocket) : undefined
}

/** "CN=a, O=b" and "O=b\nCN=a" name the same subject: compare sets of attribute=value. */
export function sameDn(a: string, b: string): boolean {
  const norm = (dn: string) =>
    dn
      .split(/[,\n]/)
      .map((p) => p.trim())
      .filter((p) => p !== '')
      .map((p) => {
        const eq = p.indexOf('=')
        return `${p.slice(0, eq).trim().toUpperCase()}=${p.slice(eq + 1).trim()}`
      })
      .sort()
      .join('\n')
  return norm(a) === norm(b)
}

export const mtlsFeature = {
  enabled: true,
  tlsClientAuth: true,
  certificateBoundAccessTokens: false,
  getCertificate(ctx: Ctx): string | undefined {
    const peer = tlsSocket(ctx)?.getPeerCertificate()
    if (!peer?.raw) return undefined
    return new X509Certificate(peer.raw).toString()
  },
  // the listener asked for certificates from the test CA only: "authorized" is Node's verdict on it
  certificateAuthorized(ctx: Ctx): boolean {
    return tlsSocket(ctx)?.authorized === true
  },
  certificateSubjectMatches(ctx: Ctx, property: string, expected: string): boolean {
    const peer = tlsSocket(ctx)?.getPeerCertificate()
    if (property !== 'tls_client_auth_subject_dn' || !peer?.raw) return false
    return sameDn(new X509Certificate(peer.raw).subject, expected)
  },
}
