// PSC's redirect back to the gateway (the callback): finish the login it belongs to, make a new
// session, and send the practitioner to the page they first asked for. A failure gets a page that
// says what happened, with a way to log in again and back to that page; the audit gets the code,
// the detail and, when PSC had already said who it was, the idNat.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AuditTrail } from '../audit/trail.js'
import type { GatewayConfig } from '../config/types.js'
import { PSC_ERR } from '../errors.js'
import { sendCode } from '../pages/respond.js'
import { sessionCookieOptions } from '../session/cookies.js'
import { sessionReference } from '../session/ids.js'
import type { SessionManager } from '../session/manager.js'
import { readRequestSession } from '../session/request-session.js'
import { SessionStoreUnavailable } from '../session/store.js'
import { endpointScope } from './endpoint-scope.js'
import { finishLogin, LoginFailure } from './login-flow.js'
import type { PscClient } from './psc-client.js'
import type { LoginTransactions } from './transaction-cookie.js'
import type { LoginTransaction } from './transaction.js'
import type { AccountLookup, Identity } from '../psc/identity.js'

export interface CallbackOptions {
  config: GatewayConfig
  psc: PscClient
  sessions: SessionManager
  audit: AuditTrail
  transactions: LoginTransactions
  limited: object
  now: () => number
  /** finds the local account at login (issue 17; src/accounts/resolver.ts) */
  accounts?: { resolve(identity: Identity): Promise<AccountLookup> }
}

export function registerCallback(app: FastifyInstance, opts: CallbackOptions): void {
  const { config, psc, transactions, now } = opts
  const loginPath = `${config.prefix}/login`
  const cookieOptions = sessionCookieOptions({ secure: config.secure, maxAgeSeconds: Math.floor(config.session.absoluteTimeoutMs / 1000) })

  function fail(request: FastifyRequest, reply: FastifyReply, failure: LoginFailure, returnTo: string | undefined): FastifyReply {
    opts.audit.record(request, { event: 'login', outcome: 'failed', reason: failure.code, detail: failure.detail, idNat: failure.idNat })
    request.log.info({ code: failure.code, detail: failure.detail }, 'login failed')
    endpointScope(request, 'login', { reason: failure.code, detail: failure.detail, idNat: failure.idNat })
    const loginHref = returnTo === undefined ? loginPath : `${loginPath}?rd=${encodeURIComponent(returnTo)}`
    return sendCode(request, reply, failure.code, { loginHref, retryHref: returnTo })
  }

  app.get(config.psc.redirectPath, opts.limited, async (request, reply) => {
    // The authorization code is in this URL: keep it out of any Referer the next page would send.
    reply.header('referrer-policy', 'no-referrer').header('cache-control', 'no-store')
    const configuration = psc.configuration
    if (!configuration) return fail(request, reply, new LoginFailure(PSC_ERR.LOGIN_PSC_UNREACHABLE, `PSC discovery not loaded: ${psc.status.reason ?? 'unknown'}`), undefined)
    const state = (request.query as Record<string, unknown>).state
    if (typeof state !== 'string' || state === '') return fail(request, reply, new LoginFailure(PSC_ERR.LOGIN_NO_STATE, 'the callback carries no state'), undefined)
    const found = transactions.take(request, reply, state)
    if (!found) {
      const detail = 'unknown or expired login (state does not match a login started in this browser)'
      return fail(request, reply, new LoginFailure(PSC_ERR.LOGIN_UNKNOWN_STATE, detail), undefined)
    }
    try {
      const fields = await finishLogin(configuration, config.psc, new URL(config.publicUrl + request.url), found, now())
      return await startSession(request, reply, fields, found)
    } catch (err) {
      if (err instanceof LoginFailure) return fail(request, reply, err, found.returnTo)
      if (err instanceof SessionStoreUnavailable) return fail(request, reply, new LoginFailure(PSC_ERR.LOGIN_STORE_UNAVAILABLE, err.reason), found.returnTo)
      throw err
    }
  })

  async function startSession(request: FastifyRequest, reply: FastifyReply, fields: Awaited<ReturnType<typeof finishLogin>>, found: LoginTransaction): Promise<FastifyReply> {
    const { sessions, audit } = opts
    // The local account is looked up once, here, and kept in the session (bounded by its timeout).
    if (opts.accounts !== undefined) fields = { ...fields, identity: { ...fields.identity, account: await opts.accounts.resolve(fields.identity) } }
    const account = fields.identity.account
    let id: string
    // The store may fail at any step here; PSC has already said who this is (the audit names them).
    try {
      // A new id at every login: a cookie planted before login is never promoted (no fixation).
      const previous = await readRequestSession(request, config.session.cookieName, sessions)
      if (previous.kind === 'alive' || previous.kind === 'ended') {
        await sessions.end(previous.id)
        audit.record(request, { event: 'session', outcome: 'ended', reason: previous.kind === 'alive' ? 'replaced' : previous.why, session: sessionReference(previous.id) })
      }
      ({ id } = await sessions.create(fields))
    } catch (err) {
      if (err instanceof SessionStoreUnavailable) throw new LoginFailure(PSC_ERR.LOGIN_STORE_UNAVAILABLE, err.reason, fields.identity.idNat)
      throw err
    }
    reply.setCookie(config.session.cookieName, id, cookieOptions)
    const who = { session: sessionReference(id), idNat: fields.identity.idNat, profession: fields.identity.exercices[0]?.professionCode }
    audit.record(request, { event: 'login', outcome: 'succeeded', ...who, acr: fields.identity.acr, authMode: fields.identity.authMode, ...(account !== undefined && { account: account.status === 'found' ? account.login : account.status }) })
    audit.record(request, { event: 'session', outcome: 'created', ...who })
    endpointScope(request, 'allow', who)
    return reply.redirect(found.returnTo, 302)
  }
}
