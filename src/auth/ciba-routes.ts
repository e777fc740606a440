// The browser side of a login by e-CPS notification (CIBA), under the reserved prefix:
//   GET  <prefix>/login        (delegated by routes.ts) the choice: PSC button and/or the id form
//   POST <prefix>/ciba         send the push (after the abuse limits), then 303 to the waiting page
//   GET  <prefix>/ciba         wait (meta refresh without JS), or finish: session, then the page asked for
//   GET  <prefix>/ciba/status  {state} for the waiting page's script
//   POST <prefix>/ciba/cancel  give up
// The request is bound to the browser that started it: its id (256 random bits) is only ever in
// that browser's signed, HttpOnly cookie.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AuditTrail } from '../audit/trail.js'
import type { GatewayConfig } from '../config/types.js'
import { cibaProblemPage, CIBA_PAGE_HEADERS, loginChoicePage, pageLanguage, WAIT_SCRIPT, waitingPage, type CibaProblem } from '../pages/ciba.js'
import { compileRoutes } from '../policy/rules.js'
import { safeReturnPath } from '../policy/returnPath.js'
import { normaliseLoginHint } from '../psc/login-hint.js'
import type { SessionManager } from '../session/manager.js'
import { requestCookies } from '../session/request-cookies.js'
import { CibaLimits } from './ciba-limits.js'
import { cibaModeFor } from './ciba-mode.js'
import { CibaRequests, type CibaRequest } from './ciba-requests.js'
import type { PscClient } from './psc-client.js'
import { startSession } from './session-start.js'

export interface CibaRoutesOptions {
  config: GatewayConfig
  psc: PscClient
  sessions: SessionManager
  audit: AuditTrail
  now?: () => number
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

export async function registerCibaRoutes(app: FastifyInstance, opts: CibaRoutesOptions): Promise<CibaLogin | undefined> {
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
  const requests = new CibaRequests({ config, psc, limits: new CibaLimits(sessions.store, settings.limits, opts.now), audit, log: app.log, now: opts.now })
  app.addHook('onClose', async () => requests.close())
  const limited = config.limits.rateLimit.max > 0
    ? { config: { rateLimit: { max: config.limits.rateLimit.max, timeWindow: config.limits.rateLimit.windowMs } } }
    : {}

  const modeOf = (request: FastifyRequest, returnTo: string) => cibaModeFor(settings, routes, request.host, returnTo)
  const loginHref = (rd: string, via?: 'psc') => `${loginPath}?rd=${encodeURIComponent(rd)}${via ? '&via=psc' : ''}`

  function html(reply: FastifyReply, status: number, body: string): FastifyReply {
    return reply.code(status).headers(CIBA_PAGE_HEADERS).send(body)
  }

  function problem(request: FastifyRequest, reply: FastifyReply, status: number, which: CibaProblem, rd: string, retryAfterSeconds?: number): FastifyReply {
    if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds))
    const cardHref = modeOf(request, rd) === 'both' ? loginHref(rd, 'psc') : undefined
    return html(reply, status, cibaProblemPage(pageLanguage(request.headers['accept-language']), which, { retryHref: loginHref(rd), cardHref, retryAfterSeconds, requestId: request.id }))
  }

  function readOwnRequest(request: FastifyRequest): CibaRequest | undefined {
    const raw = requestCookies(request)[cookieName]
    if (!raw || raw.length > 200) return undefined
    const unsigned = request.unsignCookie(raw)
    return unsigned.valid && unsigned.value !== null ? requests.get(unsigned.value) : undefined
  }

  /** A form posted from another site (or a script) must not be able to push to someone's phone. */
  function fromOurOwnPage(request: FastifyRequest): boolean {
    const origin = request.headers.origin
    if (typeof origin === 'string') return origin === config.publicUrl
    return request.headers['sec-fetch-site'] === 'same-origin'
  }

  await app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_req, body, done) => {
      done(null, new URLSearchParams(body as string))
    })

    scope.post(cibaPath, limited, async (request, reply) => {
      reply.header('cache-control', 'no-store')
      const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams()
      const rd = safeReturnPath(form.get('rd')) ?? '/'
      if (!fromOurOwnPage(request)) return problem(request, reply, 403, 'forbidden', rd)
      if (modeOf(request, rd) === 'redirect') return problem(request, reply, 403, 'forbidden', rd)
      const lang = pageLanguage(request.headers['accept-language'])
      const hint = normaliseLoginHint(form.get('loginHint') ?? '')
      if (!hint.ok) {
        const pscHref = modeOf(request, rd) === 'both' ? loginHref(rd, 'psc') : undefined
        return html(reply, 400, loginChoicePage(lang, { pscHref, action: cibaPath, rd, typed: (form.get('loginHint') ?? '').slice(0, 80), problem: hint.problem }))
      }
      const idNat = hint.idNat
      const client = request.ip
      const outcome = await requests.start(idNat, client, rd)
      switch (outcome.kind) {
        case 'started': {
          const r = outcome.request
          audit.record(request, { event: 'ciba', outcome: 'requested', idNat, cibaRequest: r.ref })
          audit.record(request, { event: 'login', outcome: 'started', idNat, loginMethod: 'ciba' })
          reply.setCookie(cookieName, r.id, { ...cookieOptions, maxAge: Math.ceil((r.expiresAt - Date.now()) / 1000) + 60 })
          return reply.redirect(cibaPath, 303)
        }
        case 'limited':
          audit.record(request, { event: 'ciba', outcome: 'refused', idNat, reason: `limit ${outcome.limit}` })
          return problem(request, reply, 429, outcome.limit === 'cooldown' || outcome.limit === 'pending' ? outcome.limit : 'limited', rd, outcome.retryAfterSeconds)
        case 'unknown_id':
          audit.record(request, { event: 'ciba', outcome: 'unknown_id', idNat, reason: 'PSC answered unknown_user_id' })
          return problem(request, reply, 400, 'unknown_id', rd)
        case 'psc_unavailable':
          request.log.warn({ reason: outcome.reason }, 'CIBA: PSC unavailable')
          audit.record(request, { event: 'ciba', outcome: 'failed', idNat, reason: outcome.reason })
          return problem(request, reply, 503, 'psc_unavailable', rd)
        case 'failed':
          request.log.warn({ reason: outcome.reason }, 'CIBA: PSC refused the request')
          audit.record(request, { event: 'ciba', outcome: 'failed', idNat, reason: outcome.reason })
          return problem(request, reply, 502, 'failed', rd)
      }
    })

    scope.post(`${cibaPath}/cancel`, async (request, reply) => {
      reply.header('cache-control', 'no-store')
      const r = readOwnRequest(request)
      if (!fromOurOwnPage(request)) return problem(request, reply, 403, 'forbidden', r?.returnTo ?? '/')
      reply.clearCookie(cookieName, { path: '/' })
      if (r !== undefined) requests.cancel(r.id)
      return reply.redirect(loginHref(r?.returnTo ?? '/'), 303)
    })
  })

  app.get(cibaPath, async (request, reply) => {
    reply.header('cache-control', 'no-store')
    const r = readOwnRequest(request)
    if (r === undefined) {
      reply.clearCookie(cookieName, { path: '/' })
      return problem(request, reply, 404, 'lost', '/')
    }
    if (r.state === 'pending') {
      return html(reply, 200, waitingPage(pageLanguage(request.headers['accept-language']), {
        serviceName,
        bindingMessage: r.bindingMessage,
        refreshSeconds: NO_JS_REFRESH_SECONDS,
        scriptSrc: `${cibaPath}/wait.js`,
        statusUrl: `${cibaPath}/status`,
        cancelAction: `${cibaPath}/cancel`
      }))
    }
    reply.clearCookie(cookieName, { path: '/' })
    if (r.state === 'approved') {
      const fields = requests.collect(r.id)
      // Collected by another tab of this browser an instant ago: that tab carries on.
      if (fields === undefined) return problem(request, reply, 404, 'lost', r.returnTo)
      await startSession(request, reply, { config, sessions, audit }, fields, 'ciba')
      return reply.redirect(r.returnTo, 303)
    }
    requests.cancel(r.id)
    audit.record(request, { event: 'login', outcome: 'failed', idNat: r.idNat, reason: `CIBA ${r.failure ?? 'failed'}: ${r.reason ?? ''}`, loginMethod: 'ciba' })
    switch (r.failure) {
      case 'denied': return problem(request, reply, 403, 'denied', r.returnTo)
      case 'expired': return problem(request, reply, 410, 'expired', r.returnTo)
      case 'psc_unavailable': return problem(request, reply, 503, 'psc_unavailable', r.returnTo)
      case 'cancelled': return problem(request, reply, 200, 'cancelled', r.returnTo)
      default: return problem(request, reply, 502, 'failed', r.returnTo)
    }
  })

  app.get(`${cibaPath}/status`, async (request, reply) => {
    reply.header('cache-control', 'no-store')
    const r = readOwnRequest(request)
    return { state: r === undefined ? 'unknown' : r.state === 'pending' ? 'pending' : 'done' }
  })

  app.get(`${cibaPath}/wait.js`, async (_request, reply) =>
    reply.header('content-type', 'text/javascript; charset=utf-8').header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').send(WAIT_SCRIPT)
  )

  return {
    loginPage(request, reply) {
      const query = request.query as Record<string, unknown>
      const rd = safeReturnPath(query.rd) ?? '/'
      const mode = modeOf(request, rd)
      if (mode === 'redirect' || (mode === 'both' && query.via === 'psc')) return undefined
      reply.header('cache-control', 'no-store')
      const lang = pageLanguage(request.headers['accept-language'])
      return html(reply, 200, loginChoicePage(lang, { pscHref: mode === 'both' ? loginHref(rd, 'psc') : undefined, action: cibaPath, rd }))
    }
  }
}
