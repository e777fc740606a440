// The access gate: for every request bound for an upstream, match the route table, read the
// session, decide, and either hand the request to the proxy or answer it (login, 403, 404, 503).
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuditTrail } from './audit/trail.js'
import type { PscClient } from './auth/psc-client.js'
import type { GatewayConfig, UpstreamSettings } from './config/types.js'
import { badRequestProblem, deniedProblem, loginRequiredProblem, notFoundProblem, pscUnavailableProblem } from './pages/problems.js'
import { sendProblem, wantsJson } from './pages/respond.js'
import { decideAccess, type AccessDecision } from './policy/decide.js'
import { matchRoute, type CompiledRoute, type RouteTable } from './policy/rules.js'
import type { Identity } from './psc/identity.js'
import type { ForwardTarget } from './proxy/forward.js'
import type { ForwardingRules } from './proxy/forwarding-rules.js'
import type { TokenKeeper } from './auth/token-keeper.js'
import { storeUnavailableProblem } from './pages/problems.js'
import { SessionStoreUnavailable } from './session/store.js'
import { sessionCookieOptions } from './session/cookies.js'
import { sessionReference } from './session/ids.js'
import type { SessionManager } from './session/manager.js'
import { readRequestSession, renewCookieIfNeeded, type RequestSession } from './session/request-session.js'

/** What the gateway learnt about a request, for the proxy and for the audit line. */
export interface AccessRecord {
  decision?: 'allow' | 'deny' | 'login' | 'reject'
  route?: string
  reason?: string
  session?: string
  idNat?: string
  profession?: string
  target?: ForwardTarget
}

declare module 'fastify' {
  interface FastifyRequest {
    pscAccess: AccessRecord | null
  }
}

/** The reloadable part of the configuration, swapped as one piece by a reload. */
export interface RoutingState {
  config: GatewayConfig
  routes: RouteTable
  forwarding: ForwardingRules
}

export interface GateDeps {
  /** settings that do not change at reload (prefix, cookies, PSC) */
  config: GatewayConfig
  state: () => RoutingState
  sessions: SessionManager
  tokens: TokenKeeper
  psc: PscClient
  audit: AuditTrail
}

export function createAccessGate(deps: GateDeps) {
  const { config, sessions, psc, audit, tokens } = deps
  const prefix = config.prefix
  const loginPath = `${prefix}/login`
  const cookieName = config.session.cookieName
  const cookieOptions = sessionCookieOptions({ secure: config.secure, maxAgeSeconds: Math.floor(config.session.absoluteTimeoutMs / 1000) })

  // The gate is a callback hook that finishes without a promise when nothing has to wait (the
  // memory store, no token to renew): an async hook costs a promise and a microtask per request.
  return function accessGate(request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void {
    let outcome: void | Promise<void>
    try {
      outcome = judge(request, reply)
    } catch (err) {
      return done(err as Error)
    }
    if (outcome === undefined) done()
    else outcome.then(() => done(), done)
  }

  /** Answers the request, or leaves an allowed request with its target; a promise only if it waits. */
  function judge(request: FastifyRequest, reply: FastifyReply): void | Promise<void> {
    const access: AccessRecord = (request.pscAccess ??= {})
    const url = request.url
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)

    // One snapshot of the routing state for the whole request, even if a reload happens meanwhile.
    const state = deps.state()
    // request.host is the Host header, or X-Forwarded-Host from a trusted proxy: the host matched
    // is the host forwarded upstream (X-Forwarded-Host), never two different ones.
    // Nothing under the reserved prefix is ever forwarded, whatever the route table says.
    const route = path === prefix || path.startsWith(prefix + '/') ? undefined : matchRoute(state.routes, { host: request.host, method: request.method, path })
    if (!route) {
      access.decision = 'reject'
      access.reason = 'no matching route'
      return void sendProblem(request, reply, notFoundProblem())
    }
    access.route = route.name
    const upstream = state.config.upstreams[route.upstream]
    if (!upstream) throw new Error(`route ${route.name} names an unknown upstream ${route.upstream}`)
    if (!upstream.websocket && isWebSocketUpgrade(request)) {
      access.decision = 'reject'
      access.reason = `WebSocket is not enabled for upstream ${upstream.name}`
      return void sendProblem(request, reply, badRequestProblem(access.reason))
    }
    const matched: Matched = { access, url, state, route, upstream }
    // The memory store answers without a promise: no await (and no microtask) on that path.
    let read: RequestSession | Promise<RequestSession>
    try {
      read = readRequestSession(request, cookieName, sessions)
    } catch (err) {
      return storeFailed(request, reply, matched, err)
    }
    if (read instanceof Promise) return read.then((session) => withSession(request, reply, matched, session), (err: unknown) => storeFailed(request, reply, matched, err))
    return withSession(request, reply, matched, read)
  }

  function storeFailed(request: FastifyRequest, reply: FastifyReply, { access, state, route, upstream }: Matched, err: unknown): void {
    if (!(err instanceof SessionStoreUnavailable)) throw err
    // Fail closed: without the store nobody is known. Public routes still work, anonymously.
    request.log.warn({ reason: err.reason }, 'session store unavailable')
    if (route.access === 'public') {
      access.decision = 'allow'
      access.target = { upstream, identity: undefined, rules: state.forwarding }
      return
    }
    access.decision = 'reject'
    access.reason = 'session store unavailable'
    sendProblem(request, reply, storeUnavailableProblem())
  }

  function withSession(request: FastifyRequest, reply: FastifyReply, matched: Matched, session: RequestSession): void | Promise<void> {
    const { access, route, upstream } = matched
    if (session.kind === 'ended') {
      const ref = sessionReference(session.id)
      audit.record(request, { event: 'logout', cause: session.why, session: ref })
      audit.record(request, { event: 'session', outcome: 'ended', reason: session.why, session: ref })
    }
    if (session.kind === 'ended' || session.kind === 'invalid') reply.clearCookie(cookieName, { path: '/' })
    const identity = session.kind === 'alive' ? session.record.identity : undefined
    if (session.kind === 'alive') {
      access.session = session.record.ref
      access.idNat = identity?.idNat
      access.profession = identity?.exercices[0]?.professionCode
    }
    const decision = decideAccess(route, identity)
    if (decision.kind === 'allow' && session.kind === 'alive' && tokens.needsRefresh(session.record, upstream.forwardAccessToken)) {
      return renewThenConclude(request, reply, matched, session, decision)
    }
    conclude(request, reply, matched, session, identity, identity, decision)
  }

  /** The session's tokens are due for renewal (forwarded access token, or re-validation with PSC). */
  async function renewThenConclude(request: FastifyRequest, reply: FastifyReply, matched: Matched, alive: RequestSession & { kind: 'alive' }, allowed: AccessDecision): Promise<void> {
    const { access, route, upstream, url } = matched
    const identity = alive.record.identity
    let session: RequestSession = alive
    let decision = allowed
    // What the upstream will be told: the identity, unless PSC just refused to renew the session.
    let forwardedIdentity: typeof identity | undefined = identity
    const fresh = await tokens.refresh(alive.id, alive.record)
    if (fresh.kind === 'fresh') {
      session = { ...alive, record: fresh.record }
      if (fresh.refreshed) audit.record(request, { event: 'session', outcome: 'refreshed', session: access.session, idNat: identity.idNat, profession: access.profession })
    } else if (fresh.kind === 'revoked') {
      // PSC ended the practitioner's session: ours ends too.
      request.log.info({ reason: fresh.reason }, 'session not renewed by PSC')
      forwardedIdentity = undefined
      await sessions.end(alive.id)
      audit.record(request, { event: 'logout', cause: 'revoked', reason: fresh.reason, session: access.session, idNat: identity.idNat, profession: access.profession })
      audit.record(request, { event: 'session', outcome: 'ended', reason: 'revoked', session: access.session, idNat: identity.idNat, profession: access.profession })
      reply.clearCookie(cookieName, { path: '/' })
      access.reason = fresh.reason
      decision = route.access === 'public' ? decision : { kind: 'login' }
    } else if (upstream.forwardAccessToken) {
      // PSC cannot be asked for the token this upstream needs: try again later, session kept.
      // (Re-validation alone keeps the session while PSC is unreachable, and asks again next time.)
      access.decision = 'reject'
      access.reason = `access token not renewed: ${fresh.reason}`
      return void sendProblem(request, reply, pscUnavailableProblem(url))
    }
    conclude(request, reply, matched, session, identity, forwardedIdentity, decision)
  }

  function conclude(request: FastifyRequest, reply: FastifyReply, { access, url, state, route, upstream }: Matched, session: RequestSession, identity: Identity | undefined, forwardedIdentity: Identity | undefined, decision: AccessDecision): void {
    access.decision = decision.kind
    if (decision.kind === 'allow') {
      renewCookieIfNeeded(reply, session, cookieName, cookieOptions)
      access.target = {
        upstream,
        identity: forwardedIdentity,
        rules: state.forwarding,
        accessToken: upstream.forwardAccessToken && session.kind === 'alive' ? session.record.accessToken : undefined
      }
      return
    }
    if (decision.kind === 'deny') {
      access.reason = decision.reason
      const who = { displayName: `${identity?.givenName ?? ''} ${identity?.familyName ?? ''}`.trim(), idNat: identity?.idNat ?? '' }
      return void sendProblem(request, reply, deniedProblem(route.name, decision.reason, who, `${prefix}/logout`))
    }
    const loginHref = `${loginPath}?rd=${encodeURIComponent(url)}`
    if (!psc.configuration) {
      access.reason = 'PSC unreachable'
      return void sendProblem(request, reply, pscUnavailableProblem(url))
    }
    // Only a browser navigation can follow a redirect to PSC and come back; an API or XHR caller,
    // or a form POST whose body a redirect would lose, gets a 401 that points at the login.
    if (wantsJson(request) || (request.method !== 'GET' && request.method !== 'HEAD')) {
      return void sendProblem(request, reply, loginRequiredProblem(loginHref))
    }
    return void reply.header('cache-control', 'no-store').redirect(loginHref, 302)
  }
}

/** What the gate matched, carried to the steps after the session read. */
interface Matched {
  access: AccessRecord
  /** the normalised path and the query */
  url: string
  state: RoutingState
  route: CompiledRoute
  upstream: UpstreamSettings
}

function isWebSocketUpgrade(request: FastifyRequest): boolean {
  const upgrade = request.headers.upgrade
  return typeof upgrade === 'string' && upgrade.toLowerCase() === 'websocket'
}
