// The CIBA requests this gateway is waiting on: each was started by one browser (which holds its
// id in a signed cookie), is polled at PSC in the background by the replica that started it, and
// ends approved (with the session fields ready, until the browser collects them) or with a failure
// code. Its state is also kept in the session store, so that with several replicas sharing Redis
// the browser's next requests may reach any of them: no sticky sessions needed. Every request and
// its outcome go to the audit trail: who was asked, from which address, how it ended.
import { createHash, randomBytes } from 'node:crypto'
import * as oidc from 'openid-client'
import type { AuditTrail } from '../audit/trail.js'
import type { GatewayConfig } from '../config/types.js'
import { PSC_ERR } from '../errors.js'
import type { NewSession } from '../session/manager.js'
import type { SessionStore } from '../session/store.js'
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
/** how often the polling replica looks whether the browser gave up through another replica */
const WATCH_CANCEL_MS = 1_000

interface Running extends CibaRequest {
  abort: AbortController
  release: () => Promise<void>
  /** whether the store holds its latest state (so that collecting it goes through the store, once) */
  shared: boolean
}

/** A request's state as the store keeps it for the other replicas. */
type SharedState = Omit<CibaRequest, 'id'>

/** The store key of a request: a hash of its id, so the store never holds the browser's secret. */
function sharedKey(id: string): string {
  return `ciba:request:${createHash('sha256').update(id).digest('base64url')}`
}

function fromShared(id: string, raw: string | undefined): CibaRequest | undefined {
  if (raw === undefined) return undefined
  try {
    const state = JSON.parse(raw) as SharedState
    return { ...state, id }
  } catch {
    return undefined
  }
}

export class CibaRequests {
  readonly #requests = new Map<string, Running>()
  #closed = false

  constructor(
    private readonly deps: {
      config: GatewayConfig
      psc: PscClient
      store: SessionStore
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
      release: admission.release,
      shared: false
    }
    this.#requests.set(id, request)
    try {
      await this.#share(request)
    } catch (err) {
      // Without the store the other replicas would not know it: no push is left waiting unpolled,
      // but PSC has sent one; it expires on its own.
      this.#requests.delete(id)
      await admission.release().catch(() => undefined)
      throw err
    }
    void this.#poll(request, configuration, backchannel)
    return { kind: 'started', request }
  }

  /** The request a browser's cookie names: this replica's, or another's through the store. */
  async get(id: string): Promise<CibaRequest | undefined> {
    return this.#requests.get(id) ?? fromShared(id, await this.deps.store.getShared(sharedKey(id)))
  }

  /**
   * Hands an approved request's session fields over once, and forgets the request. With the
   * store's copy, once across replicas: two tabs landing on two replicas cannot both log in.
   */
  async collect(id: string): Promise<NewSession | undefined> {
    const local = this.#requests.get(id)
    this.#requests.delete(id)
    if (local !== undefined && !local.shared) return local.state === 'approved' ? local.fields : undefined
    const r = fromShared(id, await this.deps.store.takeShared(sharedKey(id)))
    if (r?.state === 'approved') return r.fields
    // The store's copy still said pending: this replica had the answer and was about to share it.
    if (r?.state === 'pending' && local?.state === 'approved') return local.fields
    return undefined
  }

  /**
   * The browser gave up, or read how its request ended: forget it. A pending request stops being
   * polled: at once on this replica, within WATCH_CANCEL_MS when another replica polls it.
   */
  async cancel(id: string): Promise<void> {
    const r = this.#requests.get(id)
    this.#requests.delete(id)
    if (r !== undefined && r.state === 'pending') {
      r.abort.abort()
      // at once: the practitioner may be sent a new request right away
      void r.release().catch(() => undefined)
    }
    const key = sharedKey(id)
    const shared = r === undefined ? fromShared(id, await this.deps.store.getShared(key)) : undefined
    if (shared?.state === 'pending') {
      const { id: _id, ...state } = shared
      await this.deps.store.putShared(key, JSON.stringify({ ...state, state: 'failed', failure: 'cancelled', reason: 'given up in the browser' } satisfies SharedState), KEEP_ENDED_MS)
    } else {
      await this.deps.store.takeShared(key)
    }
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

  /** Writes the request's state for the other replicas, kept until its browser can no longer read it. */
  async #share(r: Running): Promise<void> {
    const { id: _id, abort: _abort, release: _release, shared: _shared, ...state } = r
    await this.deps.store.putShared(sharedKey(r.id), JSON.stringify(state satisfies SharedState), Math.max(KEEP_ENDED_MS, r.expiresAt - this.#now() + KEEP_ENDED_MS))
    r.shared = true
  }

  /** A browser that gave up through another replica marked the store's copy cancelled: stop polling. */
  #watchForCancel(r: Running): NodeJS.Timeout {
    const watch = setInterval(() => {
      this.deps.store.getShared(sharedKey(r.id)).then((raw) => {
        if (r.state === 'pending' && fromShared(r.id, raw)?.failure === 'cancelled') r.abort.abort()
      }, () => undefined)
    }, WATCH_CANCEL_MS)
    watch.unref()
    return watch
  }

  async #poll(r: Running, configuration: oidc.Configuration, backchannel: BackchannelRequest): Promise<void> {
    const { audit, limits, log, config } = this.deps
    const signal = AbortSignal.any([r.abort.signal, AbortSignal.timeout(Math.max(0, r.expiresAt - this.#now()))])
    const watch = this.#watchForCancel(r)
    try {
      await this.#pollUntilAnswered(r, configuration, backchannel, signal)
    } finally {
      clearInterval(watch)
    }
    await r.release().catch(() => undefined)
    if (this.#closed) return
    const outcome = r.state === 'approved' ? 'approved' : r.failure === 'psc_unavailable' || r.failure === undefined ? 'failed' : r.failure
    void audit.emit({ event: 'ciba', outcome, idNat: r.idNat, client: r.client, cibaRequest: r.ref, reason: r.reason })
    log.info({ cibaRequest: r.ref, outcome, reason: r.reason }, 'CIBA request ended')
    // Cancelled: the browser has forgotten it already. Otherwise the browser reads the outcome
    // (or collects the session), on any replica, within this time, or it is gone.
    if (r.failure !== 'cancelled' && this.#requests.get(r.id) === r) {
      await this.#share(r).catch((err: unknown) => {
        r.shared = false
        log.warn({ cibaRequest: r.ref, err: err instanceof Error ? err.message : String(err) }, 'CIBA: the outcome could not be written to the session store; only this replica can give it')
      })
    }
    const forget = setTimeout(() => { if (this.#requests.get(r.id) === r) this.#requests.delete(r.id) }, Math.max(KEEP_ENDED_MS, r.expiresAt - this.#now()))
    forget.unref()
  }

  async #pollUntilAnswered(r: Running, configuration: oidc.Configuration, backchannel: BackchannelRequest, signal: AbortSignal): Promise<void> {
    const { limits, log, config } = this.deps
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
  }

  #fail(r: Running, failure: CibaFailure, reason: string): void {
    r.state = 'failed'
    r.failure = failure
    r.reason = reason
  }
}
