// Notices when the client certificate's files are renewed (a Kubernetes Secret updated, files
// replaced by hand or by an ACME-like job) and reads them again, so that the gateway presents the
// new certificate without a restart. Polling, like the configuration file: it follows a Secret's
// symlink swap and editors that replace files, for one stat per file and interval.
import { unwatchFile, watchFile, type Stats } from 'node:fs'
import { loadClientCertificate, type ClientCertificate } from '../config/client-certificate.js'

export type CertificateRenewal =
  | { outcome: 'renewed'; certificate: ClientCertificate; previous: ClientCertificate }
  /** the files changed but do not make a usable certificate (yet): the current one stays */
  | { outcome: 'refused'; error: string; current: ClientCertificate }

/** A cert and its key are often replaced one after the other: read once both have settled. */
const SETTLE_MS = 300

export class CertificateWatcher {
  #current: ClientCertificate
  #timer: NodeJS.Timeout | undefined
  readonly #files: string[]
  readonly #listener = (now: Stats, before: Stats): void => {
    if (now.mtimeMs === before.mtimeMs && now.ino === before.ino && now.size === before.size) return
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = setTimeout(() => this.#reread(), SETTLE_MS)
    this.#timer.unref()
  }

  constructor(
    current: ClientCertificate,
    intervalMs: number,
    private readonly onChange: (renewal: CertificateRenewal) => void,
  ) {
    this.#current = current
    const f = current.files
    this.#files = [f.pkcs12, f.cert, f.key].filter((p): p is string => p !== undefined)
    for (const file of this.#files) watchFile(file, { interval: intervalMs, persistent: false }, this.#listener)
  }

  #reread(): void {
    let next: ClientCertificate
    try {
      next = loadClientCertificate(this.#current.files)
    } catch (err) {
      this.onChange({ outcome: 'refused', error: (err as Error).message, current: this.#current })
      return
    }
    // Same certificate (a touch, a Secret re-synced with the same data): nothing to do.
    const cur = this.#current
    const samePfx = next.pfx === undefined ? cur.pfx === undefined : cur.pfx !== undefined && next.pfx.equals(cur.pfx)
    if (next.info.fingerprint256 === cur.info.fingerprint256 && next.key === cur.key && samePfx) return
    const previous = this.#current
    this.#current = next
    this.onChange({ outcome: 'renewed', certificate: next, previous })
  }

  close(): void {
    if (this.#timer) clearTimeout(this.#timer)
    for (const file of this.#files) unwatchFile(file, this.#listener)
  }
}
