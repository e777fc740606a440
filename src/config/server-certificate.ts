// The certificate the gateway presents when it serves HTTPS itself (listen.tls): PEM files read,
// parsed and matched with their key, so that `check`, start-up and a renewal name what is wrong.
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createSecureContext } from 'node:tls'
import { describeCertificate, type CertificateInfo } from './client-certificate.js'

export interface ServerCertificateFiles {
  cert: string
  key: string
  chain?: string | undefined
}

export interface ServerCertificate {
  /** certificate then chain, as sent in the handshake */
  cert: string
  key: string
  info: CertificateInfo
  coversHost(host: string): boolean
}

/** A problem with one of the files; `key` is the configuration key that names it. */
export class ServerCertificateError extends Error {
  constructor(
    message: string,
    readonly key: 'cert' | 'key' | 'chain',
  ) {
    super(message)
  }
}

function read(path: string, key: 'cert' | 'key' | 'chain', what: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new ServerCertificateError(
      `cannot read the ${what} ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      key,
    )
  }
}

export function loadServerCertificate(files: ServerCertificateFiles): ServerCertificate {
  const certPem = read(files.cert, 'cert', 'certificate')
  const key = read(files.key, 'key', 'private key')
  const chain = files.chain === undefined ? '' : read(files.chain, 'chain', 'certificate chain')
  let x: X509Certificate
  try {
    x = new X509Certificate(certPem)
  } catch (err) {
    throw new ServerCertificateError(`${files.cert}: not a PEM certificate (${(err as Error).message})`, 'cert')
  }
  if (files.chain !== undefined && !/-----BEGIN CERTIFICATE-----/.test(chain))
    throw new ServerCertificateError(`${files.chain}: no PEM certificate in the chain file`, 'chain')
  if (/ENCRYPTED/.test(key))
    throw new ServerCertificateError(
      `${files.key}: the key is encrypted; give it unencrypted, readable by the gateway's user only`,
      'key',
    )
  const cert = chain === '' ? certPem : `${certPem.trimEnd()}\n${chain}`
  try {
    createSecureContext({ cert, key })
  } catch (err) {
    const message = (err as Error).message
    if (/key values mismatch|KEY_VALUES_MISMATCH/i.test(message))
      throw new ServerCertificateError(`${files.key}: the key does not belong to the certificate ${files.cert}`, 'key')
    throw new ServerCertificateError(`${files.key}: not a usable private key (${message})`, 'key')
  }
  return {
    cert,
    key,
    info: describeCertificate(x),
    coversHost: (host) => {
      const bare = host.replace(/^\[|\]$/g, '')
      return (/^[\d.]+$|:/.test(bare) ? x.checkIP(bare) : x.checkHost(bare)) !== undefined
    },
  }
}
