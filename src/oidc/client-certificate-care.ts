// The client certificate the gateway presents to PSC, looked after while it runs: renewed files
// are used without a restart, its expiry is warned of (from 30 days before, daily), and a refusal
// by PSC in the TLS handshake is remembered until PSC accepts it again (readiness reads it).
import type { CertificateRenewal } from './certificate-watcher.js'
import { CertificateWatcher } from './certificate-watcher.js'
import { probeClientCertificate } from './client-certificate-probe.js'
import type { OutboundFailure, OutboundHttp } from './outbound-http.js'
import type { PscClientLogger } from './psc-client.js'
import type { GatewayConfig } from '../config/types.js'
import { CERTIFICATE_WARNING_MS } from '../config/resolve-psc-production.js'
import { PSC_ERR_CLIENT_CERTIFICATE, PSC_ERR_CLIENT_CERTIFICATE_REFUSED } from '../errors.js'

export class ClientCertificateCare {
  /** PSC refused the client certificate in the TLS handshake (set by a call or the start-up probe) */
  #refusal: { failure: OutboundFailure; since: number } | undefined
  #timer: NodeJS.Timeout | undefined
  #watcher: CertificateWatcher | undefined
  #closed = false
  readonly #http: OutboundHttp
  readonly #settings: GatewayConfig['psc']
  readonly #log: PscClientLogger
  /** where the token requests go, once discovery is done */
  readonly #tokenEndpoint: () => string | undefined
  readonly #pollMs: number
  readonly #onRenewal: ((renewal: CertificateRenewal) => void) | undefined

  constructor(deps: {
    http: OutboundHttp
    settings: GatewayConfig['psc']
    log: PscClientLogger
    tokenEndpoint: () => string | undefined
    /** how often the certificate files are looked at; 0: never */
    pollMs: number
    /** told when a renewed client certificate is in use (or could not be read) */
    onRenewal?: ((renewal: CertificateRenewal) => void) | undefined
  }) {
    this.#http = deps.http
    this.#settings = deps.settings
    this.#log = deps.log
    this.#tokenEndpoint = deps.tokenEndpoint
    this.#pollMs = deps.pollMs
    this.#onRenewal = deps.onRenewal
  }

  get refusal(): { failure: OutboundFailure; since: number } | undefined {
    return this.#refusal
  }

  /** Warns of the expiry now and daily, and watches the files for a renewal. */
  start(): void {
    this.#warnOfExpiry()
    this.#watch()
  }

  refused(failure: OutboundFailure): void {
    if (this.#refusal === undefined)
      this.#log.warn(
        { code: failure.code, detail: failure.message },
        'PSC refused the client certificate: no practitioner can log in until it is replaced',
      )
    this.#refusal = { failure, since: this.#refusal?.since ?? Date.now() }
  }

  /** PSC answered a token request, or the probe passed: a refusal is over. */
  accepted(): void {
    if (this.#refusal === undefined) return
    this.#refusal = undefined
    this.#log.info({ code: PSC_ERR_CLIENT_CERTIFICATE_REFUSED }, 'PSC accepts the client certificate again')
  }

  /** After discovery (and after a renewal): one handshake with the token endpoint says whether PSC accepts the certificate. */
  async checkAccepted(): Promise<void> {
    const url = this.#tokenEndpoint()
    if (
      url === undefined ||
      this.#settings.clientAuth !== 'tls_client_auth' ||
      !url.startsWith('https:') ||
      this.#http.proxyOf(url) !== undefined
    )
      return
    const probe = await probeClientCertificate(this.#http, url, Math.min(this.#settings.httpTimeoutMs, 5000))
    if (probe.verdict === 'refused') this.refused(probe.failure)
    else if (probe.verdict === 'accepted') this.accepted()
  }

  /** A renewed certificate (a Kubernetes Secret updated, files replaced) is used without a restart. */
  #watch(): void {
    const c = this.#http.certificate
    if (c === undefined || this.#pollMs <= 0) return
    this.#watcher = new CertificateWatcher(c, this.#pollMs, (renewal) => {
      if (renewal.outcome === 'renewed') {
        this.#http.replaceCertificate(renewal.certificate)
        this.#refusal = undefined
        const i = renewal.certificate.info
        this.#log.info(
          {
            subject: i.subject,
            issuer: i.issuer,
            serialNumber: i.serialNumber,
            expires: new Date(i.validTo).toISOString(),
            previousSerialNumber: renewal.previous.info.serialNumber,
          },
          'renewed client certificate for PSC in use from the next connection',
        )
        if (this.#timer) clearTimeout(this.#timer)
        this.#warnOfExpiry()
        void this.checkAccepted()
      } else {
        this.#log.warn(
          { code: PSC_ERR_CLIENT_CERTIFICATE, detail: renewal.error },
          'the client certificate files changed but cannot be used: the current certificate stays in use',
        )
      }
      this.#onRenewal?.(renewal)
    })
  }

  /** At start-up, then daily: a warning in the log from 30 days before the certificate expires. */
  #warnOfExpiry(): void {
    const c = this.#http.certificate
    if (c === undefined || this.#closed) return
    const left = c.info.validTo - Date.now()
    const details = {
      subject: c.info.subject,
      issuer: c.info.issuer,
      expires: new Date(c.info.validTo).toISOString(),
      code: PSC_ERR_CLIENT_CERTIFICATE,
    }
    if (left <= 0)
      this.#log.warn(details, 'the client certificate presented to PSC has expired: PSC refuses the gateway; renew it')
    else if (left < CERTIFICATE_WARNING_MS)
      this.#log.warn(
        { ...details, daysLeft: Math.floor(left / 86_400_000) },
        'the client certificate presented to PSC expires in less than 30 days: renew it',
      )
    this.#timer = setTimeout(() => this.#warnOfExpiry(), 86_400_000)
    this.#timer.unref()
  }

  close(): void {
    this.#closed = true
    if (this.#timer) clearTimeout(this.#timer)
    this.#watcher?.close()
  }
}
