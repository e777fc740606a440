// Reading the TLS material the gateway presents to PSC (client certificate, PKCS#12 or PEM) and the
// CA bundle it trusts. Read at load time so that `check` and start-up name a bad file, a wrong password
// or an expired certificate with the key that points at it. The key itself is never printed.
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { TLSSocket, createSecureContext } from 'node:tls'

export interface CertificateInfo {
  subject: string
  issuer: string
  /** ms since the epoch */
  validFrom: number
  validTo: number
  serialNumber: string
  fingerprint256: string
}

/** What undici's connect options need, plus what operators are shown. */
export interface ClientCertificate {
  /** the file(s) it came from, for messages */
  source: string
  pfx?: Buffer
  cert?: string
  key?: string
  passphrase?: string
  info: CertificateInfo
  /** the files as configured, to read them again when they are renewed */
  files: ClientCertificateFiles
}

export interface ClientCertificateFiles {
  pkcs12?: string
  cert?: string
  key?: string
  password?: string
}

export class TlsMaterialError extends Error {}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    throw new TlsMaterialError(`cannot read the ${what} ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  }
}

/** One line per RDN in Node's form ("C=FR\nO=...\nCN=...") → "C=FR, O=..., CN=...". */
export function oneLineDn(dn: string): string {
  return dn
    .split('\n')
    .filter((l) => l !== '')
    .join(', ')
}

export function describeCertificate(x: X509Certificate): CertificateInfo {
  return {
    subject: oneLineDn(x.subject),
    issuer: oneLineDn(x.issuer),
    validFrom: Date.parse(x.validFrom),
    validTo: Date.parse(x.validTo),
    serialNumber: x.serialNumber,
    fingerprint256: x.fingerprint256,
  }
}

/** OpenSSL's own words for a wrong password or a damaged file are cryptic: say which it probably is. */
function explainSecureContextError(err: unknown, source: string, hasPassword: boolean): TlsMaterialError {
  const message = (err as Error).message ?? String(err)
  if (/mac verify failure|bad decrypt|BAD_DECRYPT|bad password/i.test(message)) {
    return new TlsMaterialError(
      `${source}: ${hasPassword ? 'wrong password' : 'the key is encrypted: set certificate.password'} (${message})`,
    )
  }
  if (/key values mismatch|KEY_VALUES_MISMATCH/i.test(message)) {
    return new TlsMaterialError(`${source}: the key does not belong to the certificate (${message})`)
  }
  return new TlsMaterialError(`${source}: not a usable certificate and key (${message})`)
}

export function loadClientCertificate(files: ClientCertificateFiles): ClientCertificate {
  const passphrase = files.password
  if (files.pkcs12 !== undefined) {
    const pfx = read(files.pkcs12, 'PKCS#12 file')
    let context: ReturnType<typeof createSecureContext>
    try {
      context = createSecureContext({ pfx, passphrase: passphrase ?? '' })
    } catch (err) {
      throw explainSecureContextError(err, files.pkcs12, passphrase !== undefined)
    }
    // Node parses PKCS#12 only into a TLS context: read the certificate back from an unconnected socket.
    const socket = new TLSSocket(null as never, { secureContext: context })
    const raw = socket.getCertificate()
    socket.destroy()
    if (raw === null || !('raw' in raw) || raw.raw === undefined)
      throw new TlsMaterialError(`${files.pkcs12}: no certificate in the PKCS#12 file`)
    return {
      source: files.pkcs12,
      pfx,
      passphrase,
      info: describeCertificate(new X509Certificate(raw.raw)),
      files: { ...files },
    }
  }
  if (files.cert === undefined || files.key === undefined)
    throw new TlsMaterialError('give certificate.pkcs12, or both certificate.cert and certificate.key')
  const cert = read(files.cert, 'certificate').toString('utf8')
  const key = read(files.key, 'private key').toString('utf8')
  let x: X509Certificate
  try {
    x = new X509Certificate(cert)
  } catch (err) {
    throw new TlsMaterialError(`${files.cert}: not a PEM certificate (${(err as Error).message})`)
  }
  try {
    createSecureContext({ cert, key, passphrase })
  } catch (err) {
    throw explainSecureContextError(err, files.key, passphrase !== undefined)
  }
  return { source: files.cert, cert, key, passphrase, info: describeCertificate(x), files: { ...files } }
}

/** A PEM bundle of one or more CA certificates; each must parse. */
export function loadCaBundle(path: string): { file: string; pem: string; certificates: CertificateInfo[] } {
  const pem = read(path, 'CA bundle').toString('utf8')
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
  if (blocks.length === 0) throw new TlsMaterialError(`${path}: no PEM certificate in the CA bundle`)
  const certificates = blocks.map((b, i) => {
    try {
      return describeCertificate(new X509Certificate(b))
    } catch (err) {
      throw new TlsMaterialError(`${path}: certificate #${i + 1} does not parse (${(err as Error).message})`)
    }
  })
  return { file: path, pem, certificates }
}
