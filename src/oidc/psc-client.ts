// The gateway's link to PSC: discovery through PSC's wallet document, retried with capped back-off
// while PSC is unreachable, so the gateway starts (and serves public routes) without it.
import * as oidc from 'openid-client'
import type { PscAvailability } from '../policy/decide-request.js'
import type { GatewayConfig } from '../config/types.js'
import type { ClientCertificate } from '../config/client-certificate.js'
import { OutboundHttp, type OutboundFailure } from './outbound-http.js'
import { CERTIFICATE_WARNING_MS } from '../config/resolve-psc-production.js'
import { diagnoseFailure, probeClientCertificate } from './client-certificate-probe.js'
import { CertificateWatcher, type CertificateRenewal } from './certificate-watcher.js'
import {
  PSC_ERR_CLIENT_CERTIFICATE,
  PSC_ERR_CLIENT_CERTIFICATE_REFUSED,
  PSC_ERR_OUTBOUND_PROXY,
  PSC_ERR_PSC_RESPONSE,
  type OutboundErrorCode,
} from '../errors.js'

export type { CertificateRenewal } from './certificate-watcher.js'

export interface PscStatus {
  ready: boolean
  /** why it is not ready, safe to show to operators (no secret): names the outbound proxy when it is at fault */
  reason?: string
  /** stable code of the failure (PSC_ERR_OUTBOUND_PROXY, PSC_ERR_PSC_UNREACHABLE, ...) */
  code?: OutboundErrorCode
  since: number
}

/** openid-client's way of authenticating the client, from the configuration. */
export function clientAuthFor(s: GatewayConfig['psc']): oidc.ClientAuth {
  switch (s.clientAuth) {
    case 'tls_client_auth':
      return oidc.TlsClientAuth()
    case 'client_secret_post':
      return oidc.ClientSecretPost(s.clientSecret)
    default:
      return oidc.ClientSecretBasic(s.clientSecret)
  }
}

export interface PscClientLogger {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

/** told of every HTTP call to PSC: which endpoint, how it ended, how long it took */
export interface PscCallObserver {
  call(endpoint: PscEndpoint, outcome: PscCallOutcome, seconds: number): void
}
export type PscEndpoint = 'discovery' | 'token' | 'userinfo' | 'jwks' | 'revocation' | 'introspection' | 'other'
export type PscCallOutcome = 'ok' | 'client_error' | 'server_error' | 'timeout' | 'unreachable'

const FIRST_RETRY_MS = 500
const MAX_RETRY_MS = 30_000

export class PscClient {
  #configuration: oidc.Configuration | undefined
  #status: PscStatus = { ready: false, reason: 'discovery not attempted yet', since: Date.now() }
  #timer: NodeJS.Timeout | undefined
  #closed = false
  #retryMs = FIRST_RETRY_MS
  #started: Promise<void> | undefined
  #certificateTimer: NodeJS.Timeout | undefined
  /** PSC refused the client certificate in the TLS handshake (set by a call or the start-up probe) */
  #refusal: { failure: OutboundFailure; since: number } | undefined
  #watcher: CertificateWatcher | undefined
  /** every call to PSC goes through it: outbound proxy, CA bundle, client certificate */
  readonly http: OutboundHttp

  constructor(
    private readonly settings: GatewayConfig['psc'],
    private readonly log: PscClientLogger,
    private readonly observer?: PscCallObserver,
    env: Record<string, string | undefined> = process.env,
    /** told when a renewed client certificate is in use (or could not be read) */
    private readonly onCertificateRenewal?: (renewal: CertificateRenewal) => void,
    /** how often the certificate files are looked at; 0: never */
    private readonly certificatePollMs = 1000,
  ) {
    this.http = new OutboundHttp(settings.outbound, env)
  }

  /** The client certificate presented to PSC now (renewed files are picked up while running). */
  get certificate(): ClientCertificate | undefined {
    return this.http.certificate
  }

  /**
   * openid-client 6 makes every call of a Configuration through this fetch (given at discovery):
   * one place to time them. The endpoint is named from the discovery metadata, never from the URL
   * itself (a URL can carry a query string with tokens in it).
   */
  #observedFetch = async (url: string, init: RequestInit): Promise<Response> => {
    const started = performance.now()
    const endpoint = this.#endpointOf(url)
    const seconds = () => (performance.now() - started) / 1000
    try {
      const response = await this.http.fetch(url, init)
      this.observer?.call(
        endpoint,
        response.status >= 500 ? 'server_error' : response.status >= 400 ? 'client_error' : 'ok',
        seconds(),
      )
      if (endpoint === 'token' && this.#refusal !== undefined) {
        this.#refusal = undefined
        this.log.info({ code: PSC_ERR_CLIENT_CERTIFICATE_REFUSED }, 'PSC accepts the client certificate again')
      }
      return response
    } catch (err) {
      const name = (err as Error | undefined)?.name
      this.observer?.call(
        endpoint,
        name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'unreachable',
        seconds(),
      )
      // openid-client passes fetch errors through: the login flow reads which part failed from them
      if (err instanceof Error) {
        const failure = await diagnoseFailure(this.http, err, url, Math.min(this.settings.httpTimeoutMs, 5000))
        if (failure.code === PSC_ERR_CLIENT_CERTIFICATE_REFUSED) this.#certificateRefused(failure)
        Object.assign(err, { pscCode: failure.code, pscReason: failure.message })
      }
      throw err
    }
  }

  #endpointOf(url: string): PscEndpoint {
    const bare = url.split('?')[0]
    if (bare === this.settings.discoveryUrl) return 'discovery'
    const m = this.#configuration?.serverMetadata()
    if (!m) return 'other'
    const aliases = (m.mtls_endpoint_aliases ?? {}) as Record<string, unknown>
    const is = (key: string) => bare === m[key] || bare === aliases[key]
    if (is('token_endpoint')) return 'token'
    if (is('userinfo_endpoint')) return 'userinfo'
    if (bare === m.jwks_uri) return 'jwks'
    if (is('revocation_endpoint')) return 'revocation'
    if (is('introspection_endpoint')) return 'introspection'
    return 'other'
  }

  /** Where the token requests go: RFC 8705's alias when the client authenticates by certificate. */
  get tokenEndpoint(): string | undefined {
    const m = this.#configuration?.serverMetadata()
    if (m === undefined) return undefined
    const alias =
      this.settings.clientAuth === 'tls_client_auth'
        ? (m.mtls_endpoint_aliases as Record<string, unknown> | undefined)?.token_endpoint
        : undefined
    return typeof alias === 'string' ? alias : m.token_endpoint
  }

  #certificateRefused(failure: OutboundFailure): void {
    if (this.#refusal === undefined)
      this.log.warn(
        { code: failure.code, detail: failure.message },
        'PSC refused the client certificate: no practitioner can log in until it is replaced',
      )
    this.#refusal = { failure, since: this.#refusal?.since ?? Date.now() }
  }

  /** After discovery (and after a renewal): one handshake with the token endpoint says whether PSC accepts the certificate. */
  async #checkCertificateAccepted(): Promise<void> {
    const url = this.tokenEndpoint
    if (
      url === undefined ||
      this.settings.clientAuth !== 'tls_client_auth' ||
      !url.startsWith('https:') ||
      this.http.proxyOf(url) !== undefined
    )
      return
    const probe = await probeClientCertificate(this.http, url, Math.min(this.settings.httpTimeoutMs, 5000))
    if (probe.verdict === 'refused') this.#certificateRefused(probe.failure)
    else if (probe.verdict === 'accepted' && this.#refusal !== undefined) {
      this.#refusal = undefined
      this.log.info({ code: PSC_ERR_CLIENT_CERTIFICATE_REFUSED }, 'PSC accepts the client certificate again')
    }
  }

  /** Starts discovery in the background; resolves after the first attempt, whatever its outcome. */
  start(): Promise<void> {
    if (this.#started === undefined) {
      this.#warnOfCertificateExpiry()
      this.#watchCertificate()
      this.#started = this.#discover()
    }
    return this.#started
  }

  /** A renewed certificate (a Kubernetes Secret updated, files replaced) is used without a restart. */
  #watchCertificate(): void {
    const c = this.http.certificate
    if (c === undefined || this.certificatePollMs <= 0) return
    this.#watcher = new CertificateWatcher(c, this.certificatePollMs, (renewal) => {
      if (renewal.outcome === 'renewed') {
        this.http.replaceCertificate(renewal.certificate)
        this.#refusal = undefined
        const i = renewal.certificate.info
        this.log.info(
          {
            subject: i.subject,
            issuer: i.issuer,
            serialNumber: i.serialNumber,
            expires: new Date(i.validTo).toISOString(),
            previousSerialNumber: renewal.previous.info.serialNumber,
          },
          'renewed client certificate for PSC in use from the next connection',
        )
        if (this.#certificateTimer) clearTimeout(this.#certificateTimer)
        this.#warnOfCertificateExpiry()
        void this.#checkCertificateAccepted()
      } else {
        this.log.warn(
          { code: PSC_ERR_CLIENT_CERTIFICATE, detail: renewal.error },
          'the client certificate files changed but cannot be used: the current certificate stays in use',
        )
      }
      this.onCertificateRenewal?.(renewal)
    })
  }

  /** At start-up, then daily: a warning in the log from 30 days before the certificate expires. */
  #warnOfCertificateExpiry(): void {
    const c = this.http.certificate
    if (c === undefined || this.#closed) return
    const left = c.info.validTo - Date.now()
    const details = {
      subject: c.info.subject,
      issuer: c.info.issuer,
      expires: new Date(c.info.validTo).toISOString(),
      code: PSC_ERR_CLIENT_CERTIFICATE,
    }
    if (left <= 0)
      this.log.warn(details, 'the client certificate presented to PSC has expired: PSC refuses the gateway; renew it')
    else if (left < CERTIFICATE_WARNING_MS)
      this.log.warn(
        { ...details, daysLeft: Math.floor(left / 86_400_000) },
        'the client certificate presented to PSC expires in less than 30 days: renew it',
      )
    this.#certificateTimer = setTimeout(() => this.#warnOfCertificateExpiry(), 86_400_000)
    this.#certificateTimer.unref()
  }

  get configuration(): oidc.Configuration | undefined {
    return this.#configuration
  }

  /** Whether a login can start now, or whose fault it is that it cannot (the page differs). */
  get availability(): PscAvailability {
    if (this.#configuration !== undefined) return 'ready'
    return this.#status.code === PSC_ERR_OUTBOUND_PROXY ? 'outbound-proxy' : 'unreachable'
  }

  /** Not ready with an expired client certificate either: PSC would refuse every login. */
  get status(): PscStatus {
    const c = this.http.certificate
    if (this.#refusal !== undefined) {
      return {
        ready: false,
        code: PSC_ERR_CLIENT_CERTIFICATE_REFUSED,
        reason: this.#refusal.failure.message,
        since: this.#refusal.since,
      }
    }
    if (c !== undefined && c.info.validTo <= Date.now()) {
      return {
        ready: false,
        code: PSC_ERR_CLIENT_CERTIFICATE,
        reason: `the client certificate presented to PSC (${c.info.subject}, ${c.source}) expired on ${new Date(c.info.validTo).toISOString()}`,
        since: c.info.validTo,
      }
    }
    return this.#status
  }

  close(): void {
    this.#closed = true
    if (this.#timer) clearTimeout(this.#timer)
    if (this.#certificateTimer) clearTimeout(this.#certificateTimer)
    this.#watcher?.close()
    void this.http.close()
  }

  async #discover(): Promise<void> {
    if (this.#closed) return
    const s = this.settings
    const auth = clientAuthFor(s)
    try {
      const configuration = await oidc.discovery(
        new URL(s.discoveryUrl),
        s.clientId,
        // RFC 8705: a client authenticating by certificate calls the mTLS aliases PSC publishes
        {
          token_endpoint_auth_method: s.clientAuth,
          ...(s.clientAuth === 'tls_client_auth' && { use_mtls_endpoint_aliases: true }),
        },
        auth,
        {
          timeout: Math.ceil(s.httpTimeoutMs / 1000),
          execute: s.allowInsecureHttp ? [oidc.allowInsecureRequests] : [],
          [oidc.customFetch]: this.#observedFetch as never,
        },
      )
      configuration.timeout = Math.ceil(s.httpTimeoutMs / 1000)
      if (configuration.serverMetadata().issuer !== s.issuer) {
        throw new InconsistentDiscovery(
          `discovery document names issuer ${configuration.serverMetadata().issuer}, expected ${s.issuer}`,
        )
      }
      this.#configuration = configuration
      this.#status = { ready: true, since: Date.now() }
      this.#retryMs = FIRST_RETRY_MS
      this.log.info({ discoveryUrl: s.discoveryUrl }, 'PSC discovery loaded')
      await this.#checkCertificateAccepted()
    } catch (err) {
      const failure =
        err instanceof InconsistentDiscovery
          ? { code: PSC_ERR_PSC_RESPONSE as OutboundErrorCode, message: err.message }
          : this.http.describeFailure(err, s.discoveryUrl)
      const reason = `PSC discovery failed (${s.discoveryUrl}): ${failure.message}`
      this.#status = {
        ready: false,
        reason,
        code: failure.code,
        since: this.#status.ready ? Date.now() : this.#status.since,
      }
      this.log.warn({ retryInMs: this.#retryMs, code: failure.code, detail: describeError(err) }, reason)
      if (this.#closed) return
      this.#timer = setTimeout(() => void this.#discover(), this.#retryMs)
      this.#timer.unref()
      this.#retryMs = Math.min(MAX_RETRY_MS, this.#retryMs * 2)
    }
  }
}

class InconsistentDiscovery extends Error {}

/** The outbound failure code PscClient attached to a fetch error (see #observedFetch), if any. */
export function outboundFailureOf(err: unknown): { code: OutboundErrorCode; reason: string } | undefined {
  let e: unknown = err
  for (let i = 0; i < 4 && e instanceof Error; i++) {
    const tagged = e as Error & { pscCode?: OutboundErrorCode; pscReason?: string }
    if (tagged.pscCode !== undefined) return { code: tagged.pscCode, reason: tagged.pscReason ?? tagged.message }
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause
    const causeText = cause instanceof Error ? `: ${cause.message}` : ''
    const code = (err as { code?: unknown }).code
    return `${typeof code === 'string' ? `${code} ` : ''}${err.message}${causeText}`
  }
  return String(err)
}
