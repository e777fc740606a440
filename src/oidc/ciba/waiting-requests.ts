// The CIBA requests this gateway is waiting on: each was started by one browser (which holds its
// id in a signed cookie), is polled at PSC in the background by the replica that started it, and
// ends approved (with the session fields ready, until the browser collects them) or with a failure
// code. Its state is also kept in the session store, so that with several replicas sharing Redis
// the browser's next requests may reach any of them: no sticky sessions needed. Every request and
// its outcome go to the audit trail: who was asked, from which address, how it ended.
import { createHash, randomBytes } from 'node:crypto'
import * as oidc from 'openid-client'
import type { AuditTrail } from '../../audit/trail.js'
import type { GatewayConfig } from '../../config/types.js'
import type { NewSession } from '../../session/manager.js'
import type { SessionStore } from '../../session/store.js'
import { askForApproval, newBindingMessage, type BackchannelRequest } from './flow.js'
import { failRequest, pollUntilAnswered } from './psc-polling.js'
import type { CibaLimitName, CibaLimits } from './push-limits.js'
import { describeOidcError, isUpstreamFailure, unreachableFailure } from '../login-failure.js'
import type { PscClient } from '../psc-client.js'
import { fromShared, sharedKey, sharedText, type CibaRequest } from './request.js'

export type { CibaFailure, CibaRequest } from './request.js'

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

/** how long an ended request stays readable by its browser */
const KEEP_ENDED_MS = 60_000
/** how often the polling replica looks whether the browser gave up through another replica */
const WATCH_CANCEL_MS = 1_000
/** past its expiry, a request still pending in the store was lost with the replica that polled it */
const LOST_AFTER_EXPIRY_MS = 5_000

interface Running extends CibaRequest {
  abort: AbortController
  release: () => Promise<void>
  /** the store's copy as written at the start: the outcome replaces it only if it is still there */
  pendingText: string
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
    },
  ) {}

  #now(): number {
    return (this.deps.now ?? Date.now)()
  }

  /** Sends the push (after the abuse limits) and starts polling; the outcome says what the browser sees. */
  async start(idNat: string, client: string, returnTo: string): Promise<StartOutcome> {
    const { config, psc, limits } = this.deps
    const configuration = psc.configuration
    if (!configuration) return { kind: 'psc_unavailable', reason: 'PSC unreachable (discovery not loaded)' }
    if (this.#pendingCount() >= config.psc.ciba.limits.maxPending)
      return { kind: 'limited', limit: 'busy', retryAfterSeconds: 30 }
    const admission = await limits.admit(idNat, client)
    if (!admission.ok)
      return { kind: 'limited', limit: admission.limit, retryAfterSeconds: admission.retryAfterSeconds }
    const bindingMessage = newBindingMessage(config.psc.ciba.bindingMessage)
    let backchannel: BackchannelRequest
    try {
      backchannel = await askForApproval(configuration, config.psc, idNat, bindingMessage)
    } catch (err) {
      await admission.release()
      if (err instanceof oidc.ResponseBodyError && err.error === 'unknown_user_id') return { kind: 'unknown_id' }
      // the log and the audit say whose fault (the proxy, PSC, a certificate PSC refuses), as for a redirect login
      if (isUpstreamFailure(err) || (err instanceof oidc.ResponseBodyError && err.status >= 500))
        return { kind: 'psc_unavailable', reason: unreachableFailure(err)?.detail ?? describeOidcError(err) }
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
      pendingText: '',
    }
    request.pendingText = sharedText(request)
    try {
      await this.deps.store.putShared(sharedKey(id), request.pendingText, this.#keepMs(request))
    } catch (err) {
      // The other replicas could not follow it: given up here. PSC has sent the push, which
      // expires on its own; the trail says so.
      await admission.release().catch(() => undefined)
      void this.deps.audit.emit({
        event: 'ciba',
        outcome: 'failed',
        idNat,
        client,
        cibaRequest: request.ref,
        reason: `the session store could not keep the request: ${err instanceof Error ? err.message : String(err)}`,
      })
      throw err
    }
    this.#requests.set(id, request)
    void this.#poll(request, configuration, backchannel)
    return { kind: 'started', request }
  }

  /** The request a browser's cookie names: this replica's, or another's through the store. */
  async get(id: string): Promise<CibaRequest | undefined> {
    const local = this.#requests.get(id)
    if (local !== undefined) return local
    const r = fromShared(id, await this.deps.store.getShared(sharedKey(id)))
    // The replica that polled it stopped without a word (a crash): once expired, it is over.
    if (r?.state === 'pending' && this.#now() > r.expiresAt + LOST_AFTER_EXPIRY_MS) {
      return {
        ...r,
        state: 'failed',
        failure: 'expired',
        reason: 'no outcome from the replica that polled it before the request expired',
      }
    }
    return r
  }

  /**
   * Hands an approved request's session fields over once, and forgets the request. Through the
   * store's copy (taken atomically), so that two tabs landing on two replicas cannot both log in.
   */
  async collect(id: string): Promise<NewSession | undefined> {
    const local = this.#requests.get(id)
    this.#requests.delete(id)
    const stored = fromShared(id, await this.deps.store.takeShared(sharedKey(id)))
    if (stored?.state === 'approved') return stored.fields
    // The copy still said pending: this replica had the answer and had not written it yet (or
    // could not); taking the copy made sure no other replica hands it over.
    if (stored?.state === 'pending' && local?.state === 'approved') return local.fields
    return undefined
  }

  /**
   * The browser gave up, or read how its request ended: forget it. A pending request stops being
   * polled: at once on this replica, within WATCH_CANCEL_MS when another replica polls it.
   */
  async cancel(id: string): Promise<void> {
    const r = this.#requests.get(id)
    this.#requests.delete(id)
    const key = sharedKey(id)
    if (r !== undefined) {
      if (r.state === 'pending') {
        r.abort.abort()
        // at once: the practitioner may be sent a new request right away
        void r.release().catch(() => undefined)
      }
      await this.deps.store.takeShared(key)
      return
    }
    const raw = await this.deps.store.getShared(key)
    const shared = fromShared(id, raw)
    if (raw !== undefined && shared?.state === 'pending') {
      const cancelled = sharedText({
        ...shared,
        state: 'failed',
        failure: 'cancelled',
        reason: 'given up in the browser',
      })
      // Only if still pending: the polling replica may be writing the outcome at this instant.
      if (await this.deps.store.replaceShared(key, raw, cancelled, KEEP_ENDED_MS)) return
    }
    // Ended: whatever it holds (an approved session included), nobody collects it any more.
    await this.deps.store.takeShared(key)
  }

  /** Stops polling. Other replicas showing one of these requests are told it ended. */
  async close(): Promise<void> {
    this.#closed = true
    const pending = [...this.#requests.values()].filter((r) => r.state === 'pending')
    for (const r of this.#requests.values()) r.abort.abort()
    this.#requests.clear()
    await Promise.all(
      pending.map((r) => {
        const ended = sharedText({
          ...r,
          state: 'failed',
          failure: 'failed',
          reason: 'the gateway replica that polled it stopped',
        })
        return this.deps.store.replaceShared(sharedKey(r.id), r.pendingText, ended, KEEP_ENDED_MS).catch(() => false)
      }),
    )
  }

  /** Until its browser can no longer read it: its expiry, then a minute to read the outcome. */
  #keepMs(r: CibaRequest): number {
    return Math.max(KEEP_ENDED_MS, r.expiresAt - this.#now() + KEEP_ENDED_MS)
  }

  #pendingCount(): number {
    let n = 0
    for (const r of this.#requests.values()) if (r.state === 'pending') n++
    return n
  }

  /** A browser that gave up through another replica marked the store's copy cancelled: stop polling. */
  #watchForCancel(r: Running): NodeJS.Timeout {
    const watch = setInterval(() => {
      this.deps.store.getShared(sharedKey(r.id)).then(
        (raw) => {
          if (r.state === 'pending' && fromShared(r.id, raw)?.failure === 'cancelled') r.abort.abort()
        },
        () => undefined,
      )
    }, WATCH_CANCEL_MS)
    watch.unref()
    return watch
  }

  async #poll(r: Running, configuration: oidc.Configuration, backchannel: BackchannelRequest): Promise<void> {
    const { audit, log } = this.deps
    const signal = AbortSignal.any([r.abort.signal, AbortSignal.timeout(Math.max(0, r.expiresAt - this.#now()))])
    const watch = this.#watchForCancel(r)
    try {
      await pollUntilAnswered(r, configuration, backchannel, signal, { ...this.deps, now: () => this.#now() })
    } finally {
      clearInterval(watch)
    }
    await r.release().catch(() => undefined)
    if (this.#closed) return
    // Collected or given up on this replica meanwhile: the browser has what it needs.
    if (r.failure !== 'cancelled' && this.#requests.get(r.id) === r) await this.#writeOutcome(r)
    const outcome =
      r.state === 'approved'
        ? 'approved'
        : r.failure === 'psc_unavailable' || r.failure === undefined
          ? 'failed'
          : r.failure
    void audit.emit({ event: 'ciba', outcome, idNat: r.idNat, client: r.client, cibaRequest: r.ref, reason: r.reason })
    log.info({ cibaRequest: r.ref, outcome, reason: r.reason }, 'CIBA request ended')
  }

  /**
   * The outcome replaces the store's pending copy, for whichever replica the browser reaches; then
   * this replica forgets it (the store's copy is the one). Not if the browser gave up through
   * another replica meanwhile. If the store cannot be written, this replica keeps it for a while.
   */
  async #writeOutcome(r: Running): Promise<void> {
    try {
      const written = await this.deps.store.replaceShared(
        sharedKey(r.id),
        r.pendingText,
        sharedText(r),
        this.#keepMs(r),
      )
      this.#requests.delete(r.id)
      if (!written) {
        r.fields = undefined
        failRequest(r, 'cancelled', 'given up in the browser (through another replica)')
      }
    } catch (err) {
      this.deps.log.warn(
        { cibaRequest: r.ref, err: err instanceof Error ? err.message : String(err) },
        'CIBA: the outcome could not be written to the session store; only this replica can give it',
      )
      const forget = setTimeout(() => {
        if (this.#requests.get(r.id) === r) this.#requests.delete(r.id)
      }, this.#keepMs(r))
      forget.unref()
    }
  }
}
