// The browser side of a login by e-CPS notification (CIBA), under the reserved prefix:
//   GET  <prefix>/login        (delegated by endpoints/gateway-endpoints.ts) the choice: PSC button and/or the id form
//   POST <prefix>/ciba         send the push (after the abuse limits), then 303 to the waiting page
//   GET  <prefix>/ciba         wait (meta refresh without JS), or finish: session, then the page asked for
//   GET  <prefix>/ciba/status  {state} for the waiting page's script
//   POST <prefix>/ciba/cancel  give up
// The request is bound to the browser that started it: its id (256 random bits) is only ever in
// that browser's signed, HttpOnly cookie.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AuditTrail } from '../../audit/trail.js'
import type { GatewayConfig } from '../../config/types.js'
import { endpointScope } from '../../endpoints/endpoint-scope.js'
import { PSC_ERR, PSC_ERR_CIBA } from '../../errors.js'
import { loginChoicePage, WAIT_SCRIPT, waitingPage } from '../../pages/ciba-pages.js'
import { pageLanguage } from '../../pages/language.js'
import { askedAfterExpiry } from '../../pages/login-notice.js'
import { compileRoutes } from '../../policy/rules.js'
import { safeReturnPath } from '../../policy/return-path.js'
import { normaliseLoginHint } from '../../psc/login-hint.js'
import type { SessionManager } from '../../session/manager.js'
import { requestCookies } from '../../session/request-cookies.js'
import type { PscClient } from '../psc-client.js'
import type { SessionStartDeps } from '../session-start.js'
import { createCibaAnswers } from './ciba-answers.js'
import { finishCibaLogin } from './login-finish.js'
import { CibaLimits } from './push-limits.js'
import { answerStart } from './start-answers.js'
import { CibaRequests, type CibaRequest } from './waiting-requests.js'

export interface CibaRoutesOptions {
  config: GatewayConfig
  psc: PscClient
  sessions: SessionManager
  audit: AuditTrail
  now?: () => number
  /** the same local-account lookup as the redirect login */
  accounts?: SessionStartDeps['accounts']
}

export interface CibaLogin {
  /** Answers GET <prefix>/login when this page offers CIBA; undefined: the usual redirect applies. */
  loginPage(request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined
}

export function cibaCookieName(secure: boolean): string {
  return secure ? '__Host-psc_ciba' : 'psc_ciba'
}
/** Seconds between reloads of the waiting page without JavaScript. */
const NO_JS_REFRESH_SECONDS = 3

export async function registerCibaRoutes(
  app: FastifyInstance,
  opts: CibaRoutesOptions,
): Promise<CibaLogin | undefined> {
  const { config, psc, sessions, audit } = opts
  const settings = config.psc.ciba
  if (!settings.enabled) return undefined
  const prefix = config.prefix
  const cibaPath = `${prefix}/ciba`
  const cookieName = cibaCookieName(config.secure)
  const cookieOptions = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: config.secure, signed: true }
  const serviceName = config.psc.serviceName ?? config.psc.clientId
  // Route overrides follow the routes in force at start-up (psc.* needs a restart anyway).
  const routes = compileRoutes(config.routes)
  const requests = new CibaRequests({
    config,
    psc,
    store: sessions.store,
    limits: new CibaLimits(sessions.store, settings.limits, opts.now),
    audit,
    log: app.log,
    now: opts.now,
  })
  app.addHook('onClose', async () => requests.close())
  const limited =
    config.limits.rateLimit.max > 0
      ? { config: { rateLimit: { max: config.limits.rateLimit.max, timeWindow: config.limits.rateLimit.windowMs } } }
      : {}

  const { modeOf, loginHref, html, problem } = createCibaAnswers(config, routes)

  async function readOwnRequest(request: FastifyRequest): Promise<CibaRequest | undefined> {
    const raw = requestCookies(request)[cookieName]
    if (!raw || raw.length > 200) return undefined
    const unsigned = request.unsignCookie(raw)
    return unsigned.valid && unsigned.value !== null ? await requests.get(unsigned.value) : undefined
  }

  /** A form posted from another site (or a script) must not be able to push to someone's phone. */
  function fromOurOwnPage(request: FastifyRequest): boolean {
    const origin = request.headers.origin
    if (typeof origin === 'string') return origin === config.publicUrl
    return request.headers['sec-fetch-site'] === 'same-origin'
  }

  await app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 4096 },
      (_req, body, done) => {
        done(null, new URLSearchParams(body as string))
      },
    )

    scope.post(cibaPath, limited, async (request, reply) => {
      reply.header('cache-control', 'no-store')
      const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams()
      const rd = safeReturnPath(form.get('rd')) ?? '/'
      if (!fromOurOwnPage(request))
        return problem(request, reply, 403, 'forbidden', rd, {
          decision: 'reject',
          reason: PSC_ERR.CROSS_SITE.code,
          detail: `CIBA request posted from ${String(request.headers.origin ?? request.headers['sec-fetch-site'])}`,
        })
      if (modeOf(request, rd) === 'redirect')
        return problem(request, reply, 403, 'forbidden', rd, {
          decision: 'reject',
          reason: PSC_ERR.BAD_REQUEST.code,
          detail: `${PSC_ERR_CIBA.NOT_OFFERED.code}: CIBA is not offered for ${rd}`,
        })
      const lang = pageLanguage(request.headers['accept-language'])
      const hint = normaliseLoginHint(form.get('loginHint') ?? '')
      if (!hint.ok) {
        const pscHref = modeOf(request, rd) === 'both' ? loginHref(rd, 'psc') : undefined
        endpointScope(request, 'login', {
          reason: PSC_ERR.BAD_REQUEST.code,
          detail: `${PSC_ERR_CIBA.BAD_LOGIN_HINT.code}: ${hint.problem}`,
        })
        return html(
          reply,
          400,
          loginChoicePage(lang, {
            pscHref,
            action: cibaPath,
            rd,
            typed: (form.get('loginHint') ?? '').slice(0, 80),
            problem: hint.problem,
          }),
        )
      }
      const idNat = hint.idNat
      const client = request.ip
      const outcome = await requests.start(idNat, client, rd)
      return answerStart(
        request,
        reply,
        outcome,
        { idNat, rd },
        { audit, problem, cookieName, cookieOptions, cibaPath },
      )
    })

    scope.post(`${cibaPath}/cancel`, async (request, reply) => {
      reply.header('cache-control', 'no-store')
      const r = await readOwnRequest(request)
      if (!fromOurOwnPage(request))
        return problem(request, reply, 403, 'forbidden', r?.returnTo ?? '/', {
          decision: 'reject',
          reason: PSC_ERR.CROSS_SITE.code,
          detail: 'CIBA cancel posted from another site',
        })
      reply.clearCookie(cookieName, { path: '/' })
      if (r !== undefined) await requests.cancel(r.id)
      endpointScope(request, 'login', { idNat: r?.idNat })
      return reply.redirect(loginHref(r?.returnTo ?? '/'), 303)
    })
  })

  app.get(cibaPath, async (request, reply) => {
    reply.header('cache-control', 'no-store')
    const r = await readOwnRequest(request)
    if (r === undefined) {
      reply.clearCookie(cookieName, { path: '/' })
      return problem(request, reply, 404, 'lost', '/', {
        decision: 'login',
        detail: `${PSC_ERR_CIBA.UNKNOWN_REQUEST.code}: no CIBA request of this browser in this gateway (unknown, ended, or forgotten)`,
      })
    }
    if (r.state === 'pending') {
      endpointScope(request, 'login', { idNat: r.idNat })
      return html(
        reply,
        200,
        waitingPage(pageLanguage(request.headers['accept-language']), {
          serviceName,
          bindingMessage: r.bindingMessage,
          refreshSeconds: NO_JS_REFRESH_SECONDS,
          scriptSrc: `${cibaPath}/wait.js`,
          statusUrl: `${cibaPath}/status`,
          cancelAction: `${cibaPath}/cancel`,
        }),
      )
    }
    reply.clearCookie(cookieName, { path: '/' })
    return finishCibaLogin(request, reply, r, { config, sessions, audit, accounts: opts.accounts, requests, problem })
  })

  app.get(`${cibaPath}/status`, async (request, reply) => {
    reply.header('cache-control', 'no-store')
    const r = await readOwnRequest(request)
    endpointScope(request, 'login', { idNat: r?.idNat })
    return { state: r === undefined ? 'unknown' : r.state === 'pending' ? 'pending' : 'done' }
  })

  app.get(`${cibaPath}/wait.js`, async (request, reply) => {
    endpointScope(request, 'allow')
    return reply
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .send(WAIT_SCRIPT)
  })

  return {
    loginPage(request, reply) {
      const query = request.query as Record<string, unknown>
      const rd = safeReturnPath(query.rd) ?? '/'
      const mode = modeOf(request, rd)
      if (mode === 'redirect' || (mode === 'both' && query.via === 'psc')) return undefined
      reply.header('cache-control', 'no-store')
      endpointScope(request, 'login')
      const lang = pageLanguage(request.headers['accept-language'])
      return html(
        reply,
        200,
        loginChoicePage(lang, {
          pscHref: mode === 'both' ? loginHref(rd, 'psc') : undefined,
          action: cibaPath,
          rd,
          sessionExpired: askedAfterExpiry(query),
        }),
      )
    },
  }
}
