// The gateway's own endpoints under the reserved prefix: login, callback, logout, logged-out, me.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AuditTrail } from '../audit/trail.js'
import type { GatewayConfig } from '../config/types.js'
import { loginFailedProblem, pscUnavailableProblem } from '../pages/problems.js'
import { sendPage, sendProblem } from '../pages/respond.js'
import { safeReturnPath } from '../policy/returnPath.js'
import { sessionCookieOptions } from '../session/cookies.js'
import { sessionReference } from '../session/ids.js'
import type { SessionManager } from '../session/manager.js'
import { readRequestSession } from '../session/request-session.js'
import { finishLogin, LoginFailure, logoutUrl, startLogin } from './login-flow.js'
import type { PscClient } from './psc-client.js'
import { addTransaction, decodeTransactions, encodeTransactions, takeTransaction } from './transaction.js'
import { requestCookies } from '../session/request-cookies.js'
import { registerCibaRoutes } from './ciba-routes.js'

export interface AuthRoutesOptions {
  config: GatewayConfig
  psc: PscClient
  sessions: SessionManager
  audit: AuditTrail
  now?: () => number
}

export function loginTransactionCookieName(secure: boolean): string {
  return secure ? '__Host-psc_login' : 'psc_login'
}

export async function registerAuthRoutes(app: FastifyInstance, opts: AuthRoutesOptions): Promise<void> {
  const { config, psc, sessions, audit } = opts
  const now = opts.now ?? Date.now
  const prefix = config.prefix
  const loginPath = `${prefix}/login`
  const txCookie = loginTransactionCookieName(config.secure)
  const txCookieOptions = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: config.secure, signed: true }
  const sessionCookie = sessionCookieOptions({ secure: config.secure, maxAgeSeconds: Math.floor(config.session.absoluteTimeoutMs / 1000) })

  // Per client address, each endpoint counted apart (see limits.rateLimit); the 429 page is built
  // by the gateway's error handler.
  const limited = config.limits.rateLimit.max > 0
    ? { config: { rateLimit: { max: config.limits.rateLimit.max, timeWindow: config.limits.rateLimit.windowMs } } }
    : {}

  function readTransactions(request: FastifyRequest) {
    const raw = requestCookies(request)[txCookie]
    if (!raw) return []
    const unsigned = request.unsignCookie(raw)
    return unsigned.valid && unsigned.value !== null ? decodeTransactions(unsigned.value, now()) : []
  }

  function writeTransactions(reply: FastifyReply, list: ReturnType<typeof readTransactions>) {
    if (list.length === 0) reply.clearCookie(txCookie, { path: '/' })
    else reply.setCookie(txCookie, encodeTransactions(list), { ...txCookieOptions, maxAge: Math.ceil(config.session.loginTimeoutMs / 1000) })
  }

  // CIBA (issue 12): its own routes; where it is offered, the login page is its choice page.
  const ciba = await registerCibaRoutes(app, opts)

  app.get(loginPath, limited, async (request, reply) => {
    const offered = ciba?.loginPage(request, reply)
    if (offered !== undefined) return offered
    const configuration = psc.configuration
    if (!configuration) return sendProblem(request, reply, pscUnavailableProblem(request.url))
    const rd = (request.query as Record<string, unknown>).rd
    const returnTo = safeReturnPath(rd) ?? '/'
    const { url, transaction } = await startLogin(configuration, config.psc, returnTo, now() + config.session.loginTimeoutMs)
    writeTransactions(reply, addTransaction(readTransactions(request), transaction, now()))
    audit.record(request, { event: 'login', outcome: 'started' })
    return reply.header('cache-control', 'no-store').redirect(url.href, 302)
  })

  app.get(config.psc.redirectPath, limited, async (request, reply) => {
    // The authorization code is in this URL: keep it out of any Referer the next page would send.
    reply.header('referrer-policy', 'no-referrer').header('cache-control', 'no-store')
    const fail = (reason: string, status = 400) => {
      audit.record(request, { event: 'login', outcome: 'failed', reason })
      return sendProblem(request, reply, loginFailedProblem(reason, loginPath, status))
    }
    const configuration = psc.configuration
    if (!configuration) return fail('PSC is unreachable', 503)
    const state = (request.query as Record<string, unknown>).state
    if (typeof state !== 'string' || state === '') return fail('the callback carries no state')
    const pending = readTransactions(request)
    const { found, rest } = takeTransaction(pending, state)
    if (!found) return fail('unknown or expired login (state does not match a login started in this browser)')
    writeTransactions(reply, rest)
    try {
      const fields = await finishLogin(configuration, config.psc, new URL(config.publicUrl + request.url), found, now())
      // A new id at every login: a cookie planted before login is never promoted (no fixation).
      const previous = await readRequestSession(request, config.session.cookieName, sessions)
      if (previous.kind === 'alive' || previous.kind === 'ended') {
        await sessions.end(previous.id)
        audit.record(request, { event: 'session', outcome: 'ended', reason: previous.kind === 'alive' ? 'replaced' : previous.why, session: sessionReference(previous.id) })
      }
      const { id } = await sessions.create(fields)
      reply.setCookie(config.session.cookieName, id, sessionCookie)
      const who = { session: sessionReference(id), idNat: fields.identity.idNat, profession: fields.identity.exercices[0]?.professionCode }
      audit.record(request, { event: 'login', outcome: 'succeeded', ...who, acr: fields.identity.acr, authMode: fields.identity.authMode })
      audit.record(request, { event: 'session', outcome: 'created', ...who })
      return reply.redirect(found.returnTo, 302)
    } catch (err) {
      if (err instanceof LoginFailure) return fail(err.reason, err.status)
      throw err
    }
  })

  async function logout(request: FastifyRequest, reply: FastifyReply) {
    const session = await readRequestSession(request, config.session.cookieName, sessions)
    reply.clearCookie(config.session.cookieName, { path: '/' }).header('cache-control', 'no-store')
    if (session.kind === 'alive' || session.kind === 'ended') await sessions.end(session.id)
    if (session.kind === 'ended') {
      audit.record(request, { event: 'logout', cause: session.why, session: sessionReference(session.id) })
      audit.record(request, { event: 'session', outcome: 'ended', reason: session.why, session: sessionReference(session.id) })
    }
    if (session.kind !== 'alive') return reply.redirect(config.psc.postLogoutPath, 302)
    const who = { session: sessionReference(session.id), idNat: session.record.identity.idNat, profession: session.record.identity.exercices[0]?.professionCode }
    audit.record(request, { event: 'logout', cause: 'user', ...who })
    audit.record(request, { event: 'session', outcome: 'ended', reason: 'logout', ...who })
    // An explicit disconnect ends the PSC session too (RP-initiated logout), when PSC is reachable.
    const configuration = psc.configuration
    const target = configuration ? logoutUrl(configuration, config.psc, session.record.idToken) : config.psc.postLogoutPath
    return reply.redirect(target, 302)
  }
  app.get(`${prefix}/logout`, logout)
  app.post(`${prefix}/logout`, logout)

  app.get(config.psc.postLogoutPath, async (_request, reply) =>
    sendPage(reply, {
      title: 'Vous êtes déconnecté',
      paragraphs: ['Votre session a été fermée sur cette application et sur Pro Santé Connect.'],
      links: [{ href: loginPath, label: 'Se reconnecter' }]
    })
  )

  app.get(`${prefix}/me`, async (request, reply) => {
    reply.header('cache-control', 'no-store')
    const session = await readRequestSession(request, config.session.cookieName, sessions)
    if (session.kind !== 'alive') return reply.code(401).send({ error: 'login_required', login: loginPath })
    const r = session.record
    return {
      identity: r.identity,
      authenticatedAt: new Date(r.createdAt).toISOString(),
      expiresAt: new Date(Math.min(r.createdAt + sessions.timeouts.absoluteTimeoutMs, r.lastSeenAt + sessions.timeouts.idleTimeoutMs)).toISOString()
    }
  })
}
