// The gateway's own endpoints under the reserved prefix: login, callback, logout, logged-out, me.
// Each writes the request's scope (its decision and outcome code) once, as the gate does for
// proxied requests: the audit and the metrics read it, nothing is guessed from a status code.
import type { FastifyInstance } from 'fastify'
import type { AuditTrail } from '../audit/trail.js'
import type { GatewayConfig } from '../config/types.js'
import { PSC_ERR } from '../errors.js'
import { PAGE_HEADERS } from '../pages/html.js'
import { pageLanguage } from '../pages/language.js'
import { askedAfterExpiry } from '../pages/login-notice.js'
import { loginPage } from '../pages/login-page.js'
import { LOGO_PATH, PSC_BUTTON_PATH } from './branding-routes.js'
import { sendCode } from '../pages/respond.js'
import { safeReturnPath } from '../policy/return-path.js'
import { sessionReference } from '../session/ids.js'
import type { SessionManager } from '../session/manager.js'
import { readRequestSession, type RequestSession } from '../session/request-session.js'
import { SessionStoreUnavailable } from '../session/store.js'
import { registerCallback, type CallbackOptions } from '../oidc/callback-route.js'
import { endpointScope } from './endpoint-scope.js'
import { registerLogout } from './logout-routes.js'
import { startLogin } from '../oidc/login-flow.js'
import type { PscClient } from '../oidc/psc-client.js'
import { LoginTransactions } from '../oidc/transaction-cookie.js'
import { registerCibaRoutes } from '../oidc/ciba/browser-routes.js'

export interface AuthRoutesOptions {
  config: GatewayConfig
  psc: PscClient
  sessions: SessionManager
  audit: AuditTrail
  now?: () => number
  /** local accounts */
  accounts?: CallbackOptions['accounts']
}

export { loginTransactionCookieName } from '../oidc/transaction-cookie.js'

export async function registerAuthRoutes(app: FastifyInstance, opts: AuthRoutesOptions): Promise<void> {
  const { config, psc, sessions, audit } = opts
  const now = opts.now ?? Date.now
  const prefix = config.prefix
  const loginPath = `${prefix}/login`
  const transactions = new LoginTransactions(config, now)
  const b = config.branding
  const branded = [b.service, b.establishment, b.logo, b.pscButton].some((v) => v !== undefined)

  // Per client address, each endpoint counted apart (see limits.rateLimit); the 429 page is built
  // by the gateway's error handler.
  const limited =
    config.limits.rateLimit.max > 0
      ? { config: { rateLimit: { max: config.limits.rateLimit.max, timeWindow: config.limits.rateLimit.windowMs } } }
      : {}

  // CIBA: its own routes; where it is offered, the login page is its choice page.
  const ciba = await registerCibaRoutes(app, opts)

  app.get(loginPath, limited, async (request, reply) => {
    const offered = ciba?.loginPage(request, reply)
    if (offered !== undefined) return offered
    const returnTo = safeReturnPath((request.query as Record<string, unknown>).rd) ?? '/'
    // A branded login page says where the practitioner is, with the PSC button (which comes back
    // here with via=psc, straight to PSC).
    if (branded && (request.query as Record<string, unknown>).via !== 'psc') {
      endpointScope(request, 'login')
      const lang = pageLanguage(request.headers['accept-language'])
      return reply
        .headers(PAGE_HEADERS)
        .header('content-language', lang)
        .send(
          loginPage(lang, {
            pscHref: `${loginPath}?rd=${encodeURIComponent(returnTo)}&via=psc`,
            branding: config.branding,
            logoHref: `${prefix}${LOGO_PATH}`,
            buttonHref: `${prefix}${PSC_BUTTON_PATH}`,
            sessionExpired: askedAfterExpiry(request.query),
          }),
        )
    }
    // Sent here by a session that timed out: say so before PSC's page, with a button to go on.
    if (askedAfterExpiry(request.query)) {
      endpointScope(request, 'login', { reason: PSC_ERR.LOGIN_REQUIRED.code })
      return sendCode(request, reply.header('cache-control', 'no-store'), PSC_ERR.LOGIN_REQUIRED.code, {
        loginHref: `${loginPath}?rd=${encodeURIComponent(returnTo)}`,
        sessionExpired: true,
      })
    }
    const configuration = psc.configuration
    if (!configuration) {
      const code =
        psc.availability === 'outbound-proxy' ? PSC_ERR.OUTBOUND_PROXY_UNAVAILABLE.code : PSC_ERR.PSC_UNAVAILABLE.code
      endpointScope(request, 'login', { reason: code, detail: psc.status.reason })
      return sendCode(request, reply, code, { retryHref: request.url })
    }
    const { url, transaction } = await startLogin(
      configuration,
      config.psc,
      returnTo,
      now() + config.session.loginTimeoutMs,
    )
    transactions.add(request, reply, transaction)
    endpointScope(request, 'login')
    audit.record(request, { event: 'login', outcome: 'started' })
    return reply.header('cache-control', 'no-store').redirect(url.href, 302)
  })

  registerCallback(app, {
    config,
    psc,
    sessions,
    audit,
    transactions,
    limited,
    now,
    ...(opts.accounts !== undefined && { accounts: opts.accounts }),
  })
  registerLogout(app, { config, psc, sessions, audit })

  app.get(`${prefix}/me`, async (request, reply) => {
    reply.header('cache-control', 'no-store')
    let session: RequestSession
    try {
      session = await readRequestSession(request, config.session.cookieName, sessions)
    } catch (err) {
      if (!(err instanceof SessionStoreUnavailable)) throw err
      endpointScope(request, 'reject', { reason: PSC_ERR.STORE_UNAVAILABLE.code, detail: err.reason })
      return sendCode(request, reply, PSC_ERR.STORE_UNAVAILABLE.code)
    }
    if (session.kind !== 'alive') {
      endpointScope(request, 'login', { reason: PSC_ERR.LOGIN_REQUIRED.code })
      return reply.code(401).send({ error: PSC_ERR.LOGIN_REQUIRED.code, login: loginPath })
    }
    const r = session.record
    endpointScope(request, 'allow', {
      session: sessionReference(session.id),
      idNat: r.identity.idNat,
      profession: r.identity.exercices[0]?.professionCode,
    })
    return {
      identity: r.identity,
      authenticatedAt: new Date(r.createdAt).toISOString(),
      expiresAt: new Date(
        Math.min(r.createdAt + sessions.timeouts.absoluteTimeoutMs, r.lastSeenAt + sessions.timeouts.idleTimeoutMs),
      ).toISOString(),
    }
  })
}
