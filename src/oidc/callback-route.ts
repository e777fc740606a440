// PSC's redirect back to the gateway (the callback): finish the login it belongs to, make a new
// session, and send the practitioner to the page they first asked for. A failure gets a page that
// says what happened, with a way to log in again and back to that page; the audit gets the code,
// the detail and, when PSC had already said who it was, the idNat.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AuditTrail } from '../audit/trail.js'
import type { GatewayConfig } from '../config/types.js'
import { PSC_ERR } from '../errors.js'
import { sendCode } from '../pages/respond.js'
import type { SessionManager } from '../session/manager.js'
import { SessionStoreUnavailable } from '../session/store.js'
import { endpointScope } from '../endpoints/endpoint-scope.js'
import { finishLogin, LoginFailure } from './login-flow.js'
import { startSession } from './session-start.js'
import type { PscClient } from './psc-client.js'
import type { LoginTransactions } from './transaction-cookie.js'
import type { AccountLookup, Identity } from '../psc/identity.js'

export interface CallbackOptions {
  config: GatewayConfig
  psc: PscClient
  sessions: SessionManager
  audit: AuditTrail
  transactions: LoginTransactions
  limited: object
  now: () => number
  /** finds the local account at login (src/accounts/resolver.ts) */
  accounts?: { resolve(identity: Identity): Promise<AccountLookup> }
}

export function registerCallback(app: FastifyInstance, opts: CallbackOptions): void {
  const { config, psc, transactions, now } = opts
  const loginPath = `${config.prefix}/login`

  function fail(
    request: FastifyRequest,
    reply: FastifyReply,
    failure: LoginFailure,
    returnTo: string | undefined,
  ): FastifyReply {
    opts.audit.record(request, {
      event: 'login',
      outcome: 'failed',
      reason: failure.code,
      detail: failure.detail,
      idNat: failure.idNat,
    })
    request.log.info({ code: failure.code, detail: failure.detail }, 'login failed')
    endpointScope(request, 'login', { reason: failure.code, detail: failure.detail, idNat: failure.idNat })
    const loginHref = returnTo === undefined ? loginPath : `${loginPath}?rd=${encodeURIComponent(returnTo)}`
    return sendCode(request, reply, failure.code, { loginHref, retryHref: returnTo })
  }

  app.get(config.psc.redirectPath, opts.limited, async (request, reply) => {
    // The authorization code is in this URL: keep it out of any Referer the next page would send.
    reply.header('referrer-policy', 'no-referrer').header('cache-control', 'no-store')
    const configuration = psc.configuration
    if (!configuration) {
      const definition =
        psc.availability === 'outbound-proxy' ? PSC_ERR.LOGIN_OUTBOUND_PROXY : PSC_ERR.LOGIN_PSC_UNREACHABLE
      return fail(
        request,
        reply,
        new LoginFailure(definition, `PSC discovery not loaded: ${psc.status.reason ?? 'unknown'}`),
        undefined,
      )
    }
    const state = (request.query as Record<string, unknown>).state
    if (typeof state !== 'string' || state === '')
      return fail(request, reply, new LoginFailure(PSC_ERR.LOGIN_NO_STATE, 'the callback carries no state'), undefined)
    const found = transactions.take(request, reply, state)
    if (!found) {
      const detail = 'unknown or expired login (state does not match a login started in this browser)'
      return fail(request, reply, new LoginFailure(PSC_ERR.LOGIN_UNKNOWN_STATE, detail), undefined)
    }
    try {
      const fields = await finishLogin(configuration, config.psc, new URL(config.publicUrl + request.url), found, now())
      await startSession(
        request,
        reply,
        { config, sessions: opts.sessions, audit: opts.audit, accounts: opts.accounts },
        fields,
        'redirect',
      )
      return reply.redirect(found.returnTo, 302)
    } catch (err) {
      if (err instanceof LoginFailure) return fail(request, reply, err, found.returnTo)
      if (err instanceof SessionStoreUnavailable)
        return fail(request, reply, new LoginFailure(PSC_ERR.LOGIN_STORE_UNAVAILABLE, err.reason), found.returnTo)
      throw err
    }
  })
}
