// Certificate renewal without a restart: the PEM files of listen.tls are polled, and a new pair that
// loads is swapped into the HTTPS server for the next handshakes; connections already open keep theirs.
// A file that does not load (half-copied, mismatched key, expired) is refused and logged, the old one kept.
import { unwatchFile, watchFile, type Stats } from 'node:fs'
import type { Server } from 'node:tls'
import type { Logger } from 'pino'
import { loadServerCertificate } from '../config/server-certificate.js'
import type { ListenTls } from '../config/sections/server.js'
import { secureContextOptions } from './tls-options.js'

export interface CertificateWatch {
  /** reads the files now; true when a new certificate is in use */
  reload(): boolean
  close(): void
}

export function watchServerCertificate(
  server: Server,
  tls: ListenTls,
  logger: Logger,
  { intervalMs = 1000 }: { intervalMs?: number } = {},
): CertificateWatch {
  let inUse = loadServerCertificate(tls).info.fingerprint256
  const files = [tls.cert, tls.key, ...(tls.chain === undefined ? [] : [tls.chain])]
  function reload(): boolean {
    try {
      const next = loadServerCertificate(tls)
      const now = Date.now()
      if (next.info.validTo < now)
        throw new Error(`the certificate expired on ${new Date(next.info.validTo).toISOString()}`)
      if (next.info.validFrom > now)
        throw new Error(`the certificate is not valid before ${new Date(next.info.validFrom).toISOString()}`)
      // The key may change alone (same certificate re-keyed is impossible, but a chain may): swap whenever it loads.
      server.setSecureContext(secureContextOptions(tls, next))
      const changed = next.info.fingerprint256 !== inUse
      inUse = next.info.fingerprint256
      logger.info(
        { subject: next.info.subject, validTo: new Date(next.info.validTo).toISOString(), fingerprint256: inUse },
        changed ? 'TLS certificate renewed: new connections use it' : 'TLS files re-read: same certificate',
      )
      return changed
    } catch (err) {
      logger.error(
        { cert: tls.cert, key: tls.key, error: (err as Error).message },
        'new TLS certificate refused; the previous one stays in use',
      )
      return false
    }
  }
  const onChange = (now: Stats, before: Stats) => {
    if (now.mtimeMs !== before.mtimeMs || now.ino !== before.ino || now.size !== before.size) reload()
  }
  // Polling, not fs.watch: it follows certbot's and Kubernetes' symlink swaps and editors that replace files.
  for (const f of files) watchFile(f, { interval: intervalMs, persistent: false }, onChange)
  return {
    reload,
    close() {
      for (const f of files) unwatchFile(f, onChange)
    },
  }
}
