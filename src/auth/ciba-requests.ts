// The CIBA requests this gateway is waiting on: each was started by one browser (which holds its
// id in a signed cookie), is polled at PSC in the background by this process, and ends approved
// (with the session fields ready, until the browser collects them) or with a failure code. Every
// request and its outcome go to the audit trail: who was asked, from which address, how it ended.
import { createHash, randomBytes } from 'node:crypto'
import * as oidc from 'openid-client'
import type { AuditTrail } from '../audit/trail.js'
import type { GatewayConfig } from '../config/types.js'
import { PSC_ERR } from '../errors.js'
import type { NewSession } from '../session/manager.js'
import { askForApproval, newBindingMessage, waitForApproval, type BackchannelRequest } from './ciba-flow.js'
import type { CibaLimitName, CibaLimits } from './ciba-limits.js'
import { describeOidcError, isUpstreamFailure, LoginFailure } from './login-failure.js'
import type { PscClient } from './psc-client.js'
import { sessionFieldsFromTokens } from './session-start.js'

export type CibaFailure = 'denied' | 'expired' | 'psc_unavailable' | 'failed' | 'cancelled'

export interface CibaRequest {
  /** 256 random bits, known only to the browser that started it (signed cookie) */
  readonly id: string
  /** a hash of the id, for the audit trail */
  readonly ref: string
  readonly idNat: string
  /** the client address that asked */
  readonly client: string
  readonly bindingMessage: string
  readonly returnTo: string
  /** epoch ms */
  readonly expiresAt: number
  state: 'pending' | 'approved' | 'failed'
  fields?: NewSession
  failure?: CibaFailure
  /** technical detail for the log and the audit trail, never for the page */
  reason?: string
}

export type StartOutcome =
  | { kind: 'started'; request: CibaRequest }
  | { kind: 'limited'; limit: CibaLimitName | 'busy'; retryAfterSeconds: number }
  | { kind: 'unknown_id' }
  | { kind: 'psc_unavailable'; reason: string }
  | { kind: 'failed'; reason: string }

export interface CibaLog {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

/** consecutive failures to reach PSC while polling before the request is given up */
const MAX_UNREACHABLE = 3
/** how long an ended request stays readable by its browser */
const KEEP_ENDED_MS = 60_000

interface Running extends CibaRequest {
  abort: AbortController
  release: () => Promise<void>
}

export class CibaRequests {
  readonly #requests = new Map<string, Running>()
  #closed = false

  constructor(
    private readonly deps: {
      config: GatewayConfig
      psc: PscClient
      limits: CibaLimits
      audit: AuditTrail
      log: CibaLog
      now?: () => number
    }
  ) {}

  #now(): number {
    return (this.deps.now ?? Date.now)()
  }

  /** Sends the push (after the abuse limits) and starts polling; the outcome says what the browser sees. */
  async start(idNat: string, client: string, returnTo: string): Promise<StartOutcome> {
    const { config, psc, limits } = this.deps
    const configuration = psc.configuration
    if (!configuration) return { kind: 'psc_unavailable', reason: 'PSC unreachable (discovery not loaded)' }
    if (this.#pendingCount() >= config.psc.ciba.limits.maxPending) return { kind: 'limited', limit: 'busy', retryAfterSeconds: 30 }
    const admission = await limits.admit(idNat, client)
    if (!admission.ok) return { kind: 'limited', limit: admission.limit, retryAfterSeconds: admission.retryAfterSeconds }
    const bindingMessage = newBindingMessage(config.psc.ciba.bindingMessage)
    let backchannel: BackchannelRequest
    try {
      backchannel = await askForApproval(configuration, config.psc, idNat, bindingMessage)
    } catch (err) {
      await admission.release()
      if (err instanceof oidc.ResponseBodyError && err.error === 'unknown_user_id') return { kind: 'unknown_id' }
      if (isUpstreamFailure(err) || (err instanceof oidc.ResponseBodyError && err.status >= 500)) return { kind: 'psc_unavailable', reason: describeOidcError(err) }
      return { kind: 'failed', reason: describeOidcError(err) }
    }
    const id = randomBytes(32).toString('base64url')
    const request: Running = {
      id,
      ref: createHash('sha256').update(id).digest('base64url').slice(0, 16),
      idNat,
      client,
      bindingMessage,
      returnTo,
      expiresAt: this.#now() + backchannel.expires_in * 1000,
      state: 'pending',
      abort: new AbortController(),
      release: admission.release
    }
    this.#requests.set(id, request)
    void this.#poll(request, configuration, backchannel)
    return { kind: 'started', request }
  }

  /** The request a browser's cookie names, if this process holds it. */
  get(id: string): CibaRequest | undefined {
    return this.#requests.get(id)
  }

  /** Hands an approved request's session fields over once, and forgets the request. */
  collect(id: string): NewSession | undefined {
    const r = this.#requests.get(id)
    if (r?.state !== 'approved' || r.fields === undefined) return undefined
    this.#requests.delete(id)
    return r.fields
  }

  /** The browser gave up: stop polling (PSC's request expires on its own). */
  cancel(id: string): void {
    const r = this.#requests.get(id)
    if (r === undefined) return
    if (r.state === 'pending') {
      r.abort.abort()
      // at once: the practitioner may be sent a new request right away
      void r.release().catch(() => undefined)
    }
    this.#requests.delete(id)
  }

  close(): void {
    this.#closed = true
    for (const r of this.#requests.values()) r.abort.abort()
    this.#requests.clear()
  }

  #pendingCount(): number {
    let n = 0
    for (const r of this.#requests.values()) if (r.state === 'pending') n++
    return n
  }

  async #poll(r: Running, configuration: oidc.Configuration, backchannel: BackchannelRequest): Promise<void> {
    const { audit, limits, log, config } = this.deps
    const signal = AbortSignal.any([r.abort.signal, AbortSignal.timeout(Math.max(0, r.expiresAt - this.#now()))])
    let unreachable = 0
    for (;;) {
      try {
        const tokens = await waitForApproval(configuration, backchannel, signal)
        r.fields = await sessionFieldsFromTokens(configuration, config.psc, tokens, this.#now())
        r.state = 'approved'
        break
      } catch (err) {
        if (r.abort.signal.aborted) {
          this.#fail(r, 'cancelled', 'given up in the browser')
          break
        }
        if (err instanceof oidc.ResponseBodyError) {
          if (err.error === 'access_denied') {
            this.#fail(r, 'denied', describeOidcError(err))
            await limits.refused(r.idNat).catch((e: unknown) => log.warn({ err: describeOidcError(e) }, 'CIBA: could not record the cool-down'))
          } else if (err.error === 'expired_token') {
            this.#fail(r, 'expired', describeOidcError(err))
          } else {
            this.#fail(r, err.status >= 500 ? 'psc_unavailable' : 'failed', describeOidcError(err))
          }
          break
        }
        if (signal.aborted || (err instanceof Error && err.name === 'TimeoutError' && this.#now() >= r.expiresAt)) {
          this.#fail(r, 'expired', 'no answer before the request expired')
          break
        }
        if (err instanceof LoginFailure) {
          this.#fail(r, (err.code === PSC_ERR.LOGIN_PSC_UNREACHABLE.code || err.code === PSC_ERR.LOGIN_OUTBOUND_PROXY.code) ? 'psc_unavailable' : 'failed', `${err.code}: ${err.detail}`)
          break
        }
        if (isUpstreamFailure(err) && ++unreachable < MAX_UNREACHABLE && this.#now() < r.expiresAt) {
          log.warn({ cibaRequest: r.ref, attempt: unreachable, reason: describeOidcError(err) }, 'CIBA: PSC unreachable while polling; polling again')
          continue
        }
        this.#fail(r, isUpstreamFailure(err) ? 'psc_unavailable' : 'failed', `${isUpstreamFailure(err) ? 'PSC unreachable while polling: ' : ''}${describeOidcError(err)}`)
        break
      }
    }
    await r.release().catch(() => undefined)
    if (this.#closed) return
    const outcome = r.state === 'approved' ? 'approved' : r.failure === 'psc_unavailable' || r.failure === undefined ? 'failed' : r.failure
    void audit.emit({ event: 'ciba', outcome, idNat: r.idNat, client: r.client, cibaRequest: r.ref, reason: r.reason })
    log.info({ cibaRequest: r.ref, outcome, reason: r.reason }, 'CIBA request ended')
    // The browser reads the outcome (or collects the session) within this time, or it is gone.
    const forget = setTimeout(() => { if (this.#requests.get(r.id) === r) this.#requests.delete(r.id) }, Math.max(KEEP_ENDED_MS, r.expiresAt - this.#now()))
    forget.unref()
  }

  #fail(r: Running, failure: CibaFailure, reason: string): void {
    r.state = 'failed'
    r.failure = failure
    r.reason = reason
  }
}
