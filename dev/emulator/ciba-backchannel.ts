// CIBA in the emulator, as PSC does it (poll mode): the backchannel endpoint takes the practitioner's
// idNat as login_hint, a binding_message and PSC's `channel`; instead of a push to a phone, the
// request waits in a list that the emulator's "e-CPS app" page shows (ecps-page.ts), with Accepter
// and Refuser buttons. It also answers `interval`, and `slow_down` to a client that polls too fast.
import type Provider from 'oidc-provider'
import { errors, type Grant, type BackchannelAuthenticationRequest } from 'oidc-provider'
import { pscSubFor } from './claims.js'
import type { Practitioner } from './practitioners.js'

export interface EmulatorCibaOptions {
  /** `interval` answered by the backchannel endpoint; default 5 (seconds) */
  intervalSeconds?: number
  /** lifetime of a request; default 120 (seconds), as PSC */
  expiresInSeconds?: number
  /**
   * polls of one request closer than this get `slow_down` (RFC 8628 §3.5) instead of
   * `authorization_pending`; default: the interval. Tests set it above the interval to see a
   * client honour slow_down.
   */
  minPollSeconds?: number
}

/** A notification the e-CPS app shows. */
export interface EcpsNotification {
  authReqId: string
  idNat: string
  practitioner: string
  /** the client's dénomination (client_name), as PSC's notification names the service */
  serviceName: string
  clientId: string
  bindingMessage: string
  channel: string
  /** epoch ms */
  createdAt: number
  expiresAt: number
  answer?: 'accepted' | 'refused'
}

export interface PollRecord {
  authReqId: string
  /** epoch ms */
  at: number
  /** error answered (authorization_pending, slow_down, ...) or "tokens" */
  answer: string
}

export const CIBA_PATH = '/protocol/openid-connect/ext/ciba/auth'
const TOKEN_PATH = '/protocol/openid-connect/token'
const CIBA_GRANT = 'urn:openid:params:grant-type:ciba'
const CHANNELS = ['CARD', 'MOBILE']

export class EmulatorCiba {
  readonly intervalSeconds: number
  readonly expiresInSeconds: number
  readonly minPollMs: number
  readonly #notifications = new Map<string, EcpsNotification>()
  /** grant id → the means the practitioner approved with (PSC's channel): PSC's authMode says it */
  readonly #authModeOfGrant = new Map<string, string>()
  readonly #lastPoll = new Map<string, number>()
  /** every poll of the token endpoint with the CIBA grant, oldest first (tests read it) */
  readonly polls: PollRecord[] = []

  constructor(
    private readonly byIdNat: Map<string, Practitioner>,
    options: EmulatorCibaOptions = {},
  ) {
    this.intervalSeconds = positive(options.intervalSeconds ?? 5, 'ciba.intervalSeconds')
    this.expiresInSeconds = positive(options.expiresInSeconds ?? 120, 'ciba.expiresInSeconds')
    this.minPollMs = positive(options.minPollSeconds ?? this.intervalSeconds, 'ciba.minPollSeconds') * 1000
  }

  /** oidc-provider's features.ciba */
  feature(): Record<string, unknown> {
    return {
      enabled: true,
      deliveryModes: ['poll'],
      processLoginHint: async (_ctx: unknown, loginHint: string) => {
        const practitioner = this.byIdNat.get(loginHint)
        return practitioner === undefined ? undefined : pscSubFor(practitioner)
      },
      processLoginHintToken: async () => {
        throw new errors.InvalidRequest!('login_hint_token is not supported: use login_hint=<idNat>')
      },
      verifyUserCode: async () => undefined,
      validateBindingMessage: async (_ctx: unknown, bindingMessage: unknown) => {
        // PSC shows the binding message on the phone: it is required, and short.
        if (typeof bindingMessage !== 'string' || !/^[A-Za-z0-9]{1,8}$/.test(bindingMessage)) {
          throw new errors.InvalidBindingMessage!('binding_message is required: 1 to 8 letters or digits')
        }
      },
      validateRequestContext: async (ctx: { oidc: { params: Record<string, unknown> } }) => {
        const channel = ctx.oidc.params.channel
        if (channel !== undefined && !CHANNELS.includes(String(channel))) {
          throw new errors.InvalidRequest!(`channel must be one of ${CHANNELS.join(', ')}`)
        }
      },
      triggerAuthenticationDevice: async (
        ctx: { body: Record<string, unknown> },
        request: BackchannelAuthenticationRequest,
        account: { accountId: string },
        client: { clientId: string; clientName?: string },
      ) => {
        const idNat = account.accountId.slice(account.accountId.lastIndexOf(':') + 1)
        const p = this.byIdNat.get(idNat)
        this.#notifications.set(request.jti, {
          authReqId: request.jti,
          idNat,
          practitioner: p ? `${p.givenName} ${p.familyName}` : idNat,
          serviceName: client.clientName ?? client.clientId,
          clientId: client.clientId,
          bindingMessage: String(request.params.binding_message ?? ''),
          channel: String(request.params.channel ?? 'MOBILE'),
          createdAt: Date.now(),
          // oidc-provider sets no `exp` on this model before it is stored: its lifetime is `expiration`
          expiresAt: Date.now() + (request.expiration ?? this.expiresInSeconds) * 1000,
        })
        // oidc-provider answers no interval; PSC does.
        ctx.body.interval = this.intervalSeconds
      },
    }
  }

  /** Koa middleware around the provider: slow_down for polls that come too fast, and the poll log. */
  middleware() {
    return async (
      ctx: { path: string; method: string; status: number; body: unknown; oidc?: { params?: Record<string, unknown> } },
      next: () => Promise<void>,
    ) => {
      await next()
      if (ctx.method !== 'POST' || ctx.path !== TOKEN_PATH) return
      const params = ctx.oidc?.params
      const id = params?.auth_req_id
      if (params?.grant_type !== CIBA_GRANT || typeof id !== 'string') return
      const now = Date.now()
      const last = this.#lastPoll.get(id)
      this.#lastPoll.set(id, now)
      const body = ctx.body as { error?: string } | undefined
      let answer = ctx.status === 200 ? 'tokens' : String(body?.error ?? ctx.status)
      if (answer === 'authorization_pending' && last !== undefined && now - last < this.minPollMs) {
        ctx.status = 400
        ctx.body = { error: 'slow_down', error_description: 'polling too fast' }
        answer = 'slow_down'
      }
      this.polls.push({ authReqId: id, at: now, answer })
      if (this.polls.length > 10_000) this.polls.splice(0, this.polls.length - 10_000)
    }
  }

  /** The means approved for a CIBA grant (CARD or MOBILE), undefined for a browser login's grant. */
  authModeOfGrant(grantId: string | undefined): string | undefined {
    return grantId === undefined ? undefined : this.#authModeOfGrant.get(grantId)
  }

  /** Notifications still waiting for an answer (for one practitioner, or all), newest first. */
  pending(idNat?: string): EcpsNotification[] {
    const now = Date.now()
    const out: EcpsNotification[] = []
    for (const [id, n] of this.#notifications) {
      if (n.expiresAt <= now) {
        this.#notifications.delete(id)
        continue
      }
      if (n.answer === undefined && (idNat === undefined || n.idNat === idNat)) out.push(n)
    }
    return out.reverse()
  }

  /** The practitioner's answer on the phone. Throws when the request is unknown, answered or expired. */
  async answer(provider: Provider, authReqId: string, accept: boolean): Promise<EcpsNotification> {
    const n = this.#notifications.get(authReqId)
    if (n === undefined || n.answer !== undefined || n.expiresAt <= Date.now())
      throw new Error('no such pending notification')
    const request = await provider.BackchannelAuthenticationRequest.find(authReqId)
    if (request === undefined) throw new Error('no such pending notification')
    if (accept) {
      const practitioner = this.byIdNat.get(n.idNat)
      const grant = new provider.Grant({ accountId: request.accountId, clientId: request.clientId }) as Grant
      grant.addOIDCScope(request.scope)
      const grantId = await grant.save()
      // PSC reports the means actually used, not the practitioner's usual one.
      this.#authModeOfGrant.set(grantId, n.channel)
      if (this.#authModeOfGrant.size > 10_000) this.#authModeOfGrant.delete(this.#authModeOfGrant.keys().next().value!)
      await provider.backchannelResult(request, grant, {
        acr: practitioner?.acr ?? 'eidas1',
        authTime: Math.floor(Date.now() / 1000),
      })
    } else {
      await provider.backchannelResult(
        request,
        new errors.AccessDenied!('the practitioner refused the request on the e-CPS app'),
      )
    }
    n.answer = accept ? 'accepted' : 'refused'
    return n
  }
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new TypeError(`startEmulator: ${name} must be a positive number of seconds`)
  return value
}
