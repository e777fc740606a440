// The browser side of a login by e-CPS notification (CIBA), under the reserved prefix:
//   GET  <prefix>/login        (delegated by endpoints/gateway-endpoints.ts) the choice: PSC button and/or the id form
//   POST <prefix>/ciba         send the push (after the abuse limits), then 303 to the waiting page
//   GET  <prefix>/ciba         wait (meta refresh without JS), or finish: session, then the page asked for
//   GET  <prefix>/ciba/status  {state} for the waiting page's script
//   POST <prefix>/ciba/cancel  give up
// The request is bound to the browser that started it: its id (256 random bits) is only ever in
// that browser's signed, HttpOnly cookie.
import type { SessionStartDeps } from '../session-start.js'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AuditTrail } from '../../audit/trail.js'
import type { GatewayConfig } from '../../config/types.js'
import { PSC_ERR, PSC_ERR_CIBA, type CodeDefinition, type PscErrorCode } from '../../errors.js'
import {
  cibaProblemPage,
  CIBA_PAGE_HEADERS,
  loginChoicePage,
  WAIT_SCRIPT,
  waitingPage,
  type CibaProblem,
} from '../../pages/ciba-pages.js'
import { askedAfterExpiry } from '../../pages/login-notice.js'
import { pageLanguage } from '../../pages/language.js'
import { compileRoutes } from '../../policy/rules.js'
import { safeReturnPath } from '../../policy/return-path.js'
import { normaliseLoginHint } from '../../psc/login-hint.js'
import type { SessionManager } from '../../session/manager.js'
import { requestCookies } from '../../session/request-cookies.js'
import { CibaLimits } from './push-limits.js'
import { cibaModeFor } from './mode.js'
import { CibaRequests, type CibaFailure, type CibaRequest } from './waiting-requests.js'
import { endpointScope } from '../../endpoints/endpoint-scope.js'
import { LoginFailure } from '../login-failure.js'
import type { PscClient } from '../psc-client.js'
import { startSession } from '../session-start.js'

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

/**
 * How each way a CIBA request can fail is answered: its page, its CIBA code (whose status the answer
 * has) and the general code that fits it (the audit's reason; none for a cancel, which is no failure
 * of the gateway or of PSC).
 */
const FAILURE_ANSWERS: Record<CibaFailure, [CibaProblem, CodeDefinition, PscErrorCode | undefined]> = {
  denied: ['denied', PSC_ERR_CIBA.DENIED, PSC_ERR.LOGIN_CANCELLED.code],
  expired: ['expired', PSC_ERR_CIBA.EXPIRED, PSC_ERR.LOGIN_PSC_ERROR.code],
  psc_unavailable: ['psc_unavailable', PSC_ERR_CIBA.PSC_UNAVAILABLE, PSC_ERR.LOGIN_PSC_UNREACHABLE.code],
  failed: ['failed', PSC_ERR_CIBA.FAILED, PSC_ERR.LOGIN_PSC_ERROR.code],
  cancelled: ['cancelled', PSC_ERR_CIBA.CANCELLED, undefined],
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
  const loginPath = `${prefix}/login`
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

  const modeOf = (request: FastifyRequest, returnTo: string) => cibaModeFor(settings, routes, request.host, returnTo)
  const loginHref = (rd: string, via?: 'psc') => `${loginPath}?rd=${encodeURIComponent(rd)}${via ? '&via=psc' : ''}`

  function html(reply: FastifyReply, status: number, body: string): FastifyReply {
    return reply.code(status).headers(CIBA_PAGE_HEADERS).send(body)
  }

  /**
   * Answers with one of the CIBA pages, after writing the request's scope: the outcome code when
   * errors.ts has one that fits, and the CIBA code (PSC_ERR_CIBA_*) first in the detail.
   */
  function problem(
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    which: CibaProblem,
    rd: string,
    scope: { decision: 'login' | 'reject'; reason?: PscErrorCode; detail?: string; idNat?: string },
    retryAfterSeconds?: number,
  ): FastifyReply {
    endpointScope(request, scope.decision, { reason: scope.reason, detail: scope.detail, idNat: scope.idNat })
    if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds))
    const cardHref = modeOf(request, rd) === 'both' ? loginHref(rd, 'psc') : undefined
    return html(
      reply,
      status,
      cibaProblemPage(pageLanguage(request.headers['accept-language']), which, {
        retryHref: loginHref(rd),
        cardHref,
        retryAfterSeconds,
        requestId: request.id,
      }),
    )
  }

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
      switch (outcome.kind) {
        case 'started': {
          const r = outcome.request
          audit.record(request, { event: 'ciba', outcome: 'requested', idNat, cibaRequest: r.ref })
          audit.record(request, { event: 'login', outcome: 'started', idNat, loginMethod: 'ciba' })
          endpointScope(request, 'login', { idNat })
          reply.setCookie(cookieName, r.id, {
            ...cookieOptions,
            maxAge: Math.ceil((r.expiresAt - Date.now()) / 1000) + 60,
          })
          return reply.redirect(cibaPath, 303)
        }
        case 'limited':
          audit.record(request, { event: 'ciba', outcome: 'refused', idNat, reason: `limit ${outcome.limit}` })
          return problem(
            request,
            reply,
            429,
            outcome.limit === 'cooldown' || outcome.limit === 'pending' ? outcome.limit : 'limited',
            rd,
            {
              decision: 'reject',
              reason: PSC_ERR.TOO_MANY_REQUESTS.code,
              detail: `${PSC_ERR_CIBA.LIMITED.code}: limit ${outcome.limit}`,
              idNat,
            },
            outcome.retryAfterSeconds,
          )
        case 'unknown_id':
          audit.record(request, { event: 'ciba', outcome: 'unknown_id', idNat, reason: 'PSC answered unknown_user_id' })
          return problem(request, reply, 400, 'unknown_id', rd, {
            decision: 'login',
            reason: PSC_ERR.LOGIN_PSC_ERROR.code,
            detail: `${PSC_ERR_CIBA.UNKNOWN_ID.code}: PSC answered unknown_user_id`,
            idNat,
          })
        case 'psc_unavailable':
          request.log.warn({ reason: outcome.reason }, 'CIBA: PSC unavailable')
          audit.record(request, { event: 'ciba', outcome: 'failed', idNat, reason: outcome.reason })
          return problem(request, reply, 503, 'psc_unavailable', rd, {
            decision: 'login',
            reason: PSC_ERR.LOGIN_PSC_UNREACHABLE.code,
            detail: `${PSC_ERR_CIBA.PSC_UNAVAILABLE.code}: ${outcome.reason}`,
            idNat,
          })
        case 'failed':
          request.log.warn({ reason: outcome.reason }, 'CIBA: PSC refused the request')
          audit.record(request, { event: 'ciba', outcome: 'failed', idNat, reason: outcome.reason })
          return problem(request, reply, 502, 'failed', rd, {
            decision: 'login',
            reason: PSC_ERR.LOGIN_PSC_ERROR.code,
            detail: `${PSC_ERR_CIBA.FAILED.code}: ${outcome.reason}`,
            idNat,
          })
      }
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
    if (r.state === 'approved') {
      const fields = await requests.collect(r.id)
      // Collected by another tab of this browser an instant ago: that tab carries on.
      if (fields === undefined)
        return problem(request, reply, 404, 'lost', r.returnTo, {
          decision: 'login',
          detail: `${PSC_ERR_CIBA.UNKNOWN_REQUEST.code}: collected by another tab`,
        })
      try {
        await startSession(request, reply, { config, sessions, audit, accounts: opts.accounts }, fields, 'ciba')
      } catch (err) {
        if (!(err instanceof LoginFailure)) throw err
        audit.record(request, {
          event: 'login',
          outcome: 'failed',
          idNat: r.idNat,
          reason: err.code,
          detail: err.detail,
          loginMethod: 'ciba',
        })
        return problem(request, reply, 503, 'failed', r.returnTo, {
          decision: 'login',
          reason: err.code,
          detail: err.detail,
          idNat: r.idNat,
        })
      }
      return reply.redirect(r.returnTo, 303)
    }
    await requests.cancel(r.id)
    const [page, ciba, reason] = FAILURE_ANSWERS[r.failure ?? 'failed']
    const detail = `${ciba.code}: ${r.reason ?? ciba.message}`
    audit.record(request, { event: 'login', outcome: 'failed', idNat: r.idNat, reason, detail, loginMethod: 'ciba' })
    return problem(request, reply, ciba.status, page, r.returnTo, { decision: 'login', reason, detail, idNat: r.idNat })
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
