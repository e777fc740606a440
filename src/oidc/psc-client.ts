// The gateway's link to PSC: discovery through PSC's wallet document, retried with capped back-off
// while PSC is unreachable, so the gateway starts (and serves public routes) without it. Every call to
// PSC is timed here; the client certificate's renewal and refusal are client-certificate-care.ts.
import * as oidc from 'openid-client'
import type { PscAvailability } from '../policy/decide-request.js'
import type { GatewayConfig } from '../config/types.js'
import type { ClientCertificate } from '../config/client-certificate.js'
import { OutboundHttp } from './outbound-http.js'
import type { CertificateRenewal } from './certificate-watcher.js'
import { ClientCertificateCare } from './client-certificate-care.js'
import { diagnoseFailure } from './client-certificate-probe.js'
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
  /** the client certificate's renewal, expiry warnings and refusal by PSC */
  readonly #certificates: ClientCertificateCare
  /** every call to PSC goes through it: outbound proxy, CA bundle, client certificate */
  readonly http: OutboundHttp

  constructor(
    private readonly settings: GatewayConfig['psc'],
    private readonly log: PscClientLogger,
    private readonly observer?: PscCallObserver,
    env: Record<string, string | undefined> = process.env,
    /** told when a renewed client certificate is in use (or could not be read) */
    onCertificateRenewal?: (renewal: CertificateRenewal) => void,
    /** how often the certificate files are looked at; 0: never */
    certificatePollMs = 1000,
  ) {
    this.http = new OutboundHttp(settings.outbound, env)
    this.#certificates = new ClientCertificateCare({
      http: this.http,
      settings,
      log,
      tokenEndpoint: () => this.tokenEndpoint,
      pollMs: certificatePollMs,
      onRenewal: onCertificateRenewal,
    })
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
      if (endpoint === 'token') this.#certificates.accepted()
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
        if (failure.code === PSC_ERR_CLIENT_CERTIFICATE_REFUSED) this.#certificates.refused(failure)
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

  /** Starts discovery in the background; resolves after the first attempt, whatever its outcome. */
  start(): Promise<void> {
    if (this.#started === undefined) {
      this.#certificates.start()
      this.#started = this.#discover()
    }
    return this.#started
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
    if (this.#certificates.refusal !== undefined) {
      return {
        ready: false,
        code: PSC_ERR_CLIENT_CERTIFICATE_REFUSED,
        reason: this.#certificates.refusal.failure.message,
        since: this.#certificates.refusal.since,
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
    this.#certificates.close()
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
      await this.#certificates.checkAccepted()
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
