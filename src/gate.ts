// The access gate: for every request bound for an upstream, match the route table, read the
// session, decide, and either hand the request to the proxy or answer it (login, 403, 404, 503).
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuditSink } from './audit/events.js'
import type { PscClient } from './auth/psc-client.js'
import type { GatewayConfig } from './config/types.js'
import { deniedProblem, loginRequiredProblem, notFoundProblem, pscUnavailableProblem } from './pages/problems.js'
import { sendProblem, wantsJson } from './pages/respond.js'
import { decideAccess } from './policy/decide.js'
import { matchRoute, type RouteTable } from './policy/rules.js'
import type { ForwardTarget } from './proxy/forward.js'
import { sessionCookieOptions } from './session/cookies.js'
import { sessionReference } from './session/ids.js'
import type { SessionManager } from './session/manager.js'
import { readRequestSession, renewCookieIfNeeded } from './session/request-session.js'

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

export interface GateDeps {
  config: GatewayConfig
  routes: () => RouteTable
  sessions: SessionManager
  psc: PscClient
  audit: AuditSink
}

export function createAccessGate(deps: GateDeps) {
  const { config, sessions, psc, audit } = deps
  const prefix = config.prefix
  const loginPath = `${prefix}/login`
  const cookieName = config.session.cookieName
  const cookieOptions = sessionCookieOptions({ secure: config.secure, maxAgeSeconds: Math.floor(config.session.absoluteTimeoutMs / 1000) })

  return async function accessGate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const access: AccessRecord = (request.pscAccess ??= {})
    const url = request.url
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)

    // Nothing under the reserved prefix is ever forwarded, whatever the route table says.
    const route = path === prefix || path.startsWith(prefix + '/') ? undefined : matchRoute(deps.routes(), { host: request.headers.host, method: request.method, path })
    if (!route) {
      access.decision = 'reject'
      access.reason = 'no matching route'
      return void sendProblem(request, reply, notFoundProblem())
    }
    access.route = route.name
    const upstream = config.upstreams[route.upstream]
    if (!upstream) throw new Error(`route ${route.name} names an unknown upstream ${route.upstream}`)

    const session = await readRequestSession(request, cookieName, sessions)
    if (session.kind === 'ended') {
      audit.write({ event: 'logout', cause: session.why, requestId: request.id, client: request.ip, session: sessionReference(session.id) })
    }
    if (session.kind === 'ended' || session.kind === 'invalid') reply.clearCookie(cookieName, { path: '/' })
    const identity = session.kind === 'alive' ? session.record.identity : undefined
    if (session.kind === 'alive') {
      access.session = sessionReference(session.id)
      access.idNat = identity?.idNat
      access.profession = identity?.exercices[0]?.professionCode
    }

    const decision = decideAccess(route, identity)
    access.decision = decision.kind
    if (decision.kind === 'allow') {
      renewCookieIfNeeded(reply, session, cookieName, cookieOptions)
      access.target = { upstream, identity }
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
