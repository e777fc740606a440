// The access gate, an executor with no rules of its own: for every request bound for an upstream it
// matches the route table, reads the session, renews its tokens when due, asks policy/decideRequest
// for the outcome, writes the request's scope once, and carries the outcome out (the proxy forwards
// an allowed request; anything else is answered here).
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuditTrail } from './audit/trail.js'
import type { PscClient } from './oidc/psc-client.js'
import type { TokenKeeper } from './oidc/token-keeper.js'
import type { GatewayConfig, UpstreamSettings } from './config/types.js'
import { SESSION_EXPIRED_PARAM } from './pages/login-notice.js'
import { sendCode } from './pages/respond.js'
import { describeDenial } from './policy/decide.js'
import { decideRequest, type Outcome, type RequestFacts, type SessionState } from './policy/decide-request.js'
import { FIRST_EXERCICE, structureReference } from './policy/exercice-in-context.js'
import { encodedTwice } from './policy/double-decoding.js'
import { isPublicHost, publicHostOf } from './policy/public-host.js'
import { requestKind } from './policy/request-kind.js'
import { matchRoute, type CompiledRoute, type RouteTable } from './policy/rules.js'
import type { ForwardingRules } from './proxy/forwarding-rules.js'
import { setScope, type RequestScope } from './scope.js'
import { sessionCookieOptions } from './session/cookies.js'
import { sessionReference } from './session/ids.js'
import type { SessionManager } from './session/manager.js'
import { readRequestSession, renewCookieIfNeeded, type RequestSession } from './session/request-session.js'
import { SessionStoreUnavailable } from './session/store.js'
import { PSC_ERR } from './errors.js'
import type { CharterRequirement } from './endpoints/charter-requirement.js'
import { sendCharterRefusal } from './pages/charter-refusal.js'

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
  /** whom the "account not open" page names (accounts.contact) */
  accountContact?: string
  /** the IT charter to accept before any route but the public and exempt ones */
  charter?: CharterRequirement
}

/**
 * The request the decision is about: the request itself in proxy mode, or the original request a
 * trusted proxy describes in forward-auth mode (endpoints/forward-auth-route.ts).
 */
export interface RequestTarget {
  readonly method: string
  /** the Host (port included) the route rules see */
  readonly host: string
  /** the normalised path and the query */
  readonly url: string
}

/** Carries an outcome out: the gate forwards or answers; forward-auth answers the proxy. */
export type CarryOut = (
  request: FastifyRequest,
  reply: FastifyReply,
  matched: Matched,
  read: ReadSession,
  outcome: Outcome,
) => void | Promise<void>

/** What the gate learnt before the decision, carried to the steps after the session read. */
export interface Matched {
  /** the normalised path and the query */
  url: string
  /** the Host the route rules saw */
  host: string
  state: RoutingState
  route: CompiledRoute | undefined
  upstream: UpstreamSettings | undefined
  facts: RequestFacts
}

/** The session as read, and the state the decision is told. */
export interface ReadSession {
  session: RequestSession
  state: SessionState
  /** technical detail of a failure (store error, PSC's refusal) */
  detail?: string
}

const NO_SESSION: ReadSession = Object.freeze({
  session: Object.freeze({ kind: 'none' }),
  state: Object.freeze({ state: 'none' }),
})
const EXPIRED: SessionState = Object.freeze({ state: 'expired' })
const REVOKED: SessionState = Object.freeze({ state: 'revoked' })
const CONFLICT: SessionState = Object.freeze({ state: 'conflict' })

export function createAccessGate(deps: GateDeps) {
  const { config } = deps
  const prefix = config.prefix
  const cookieName = config.session.cookieName
  const cookieOptions = sessionCookieOptions({
    secure: config.secure,
    maxAgeSeconds: Math.floor(config.session.absoluteTimeoutMs / 1000),
  })
  const steps = createDecisionSteps(deps)

  // A callback hook that finishes without a promise when nothing has to wait (the memory store, no
  // token to renew): an async hook costs a promise and a microtask per request.
  return function accessGate(request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void {
    let pending: void | Promise<void>
    try {
      pending = steps(request, reply, request, carryOut)
    } catch (err) {
      return done(err as Error)
    }
    if (pending === undefined) done()
    else pending.then(() => done(), done)
  }

  /** Writes the scope, once, then forwards (by leaving the request to the proxy) or answers. */
  function carryOut(
    request: FastifyRequest,
    reply: FastifyReply,
    matched: Matched,
    read: ReadSession,
    outcome: Outcome,
  ): void {
    const { url, state, upstream } = matched
    const session = read.session
    const scope = scopeOf(matched, read, outcome)
    if (outcome.kind === 'allow') {
      renewCookieIfNeeded(reply, session, cookieName, cookieOptions)
      scope.target = {
        upstream: upstream!,
        identity: outcome.identity,
        exercice: outcome.exercice,
        rules: state.forwarding,
        accessToken: upstream!.forwardAccessToken && session.kind === 'alive' ? session.record.accessToken : undefined,
      }
      return setScope(request, scope)
    }
    setScope(request, scope)
    answer(
      request,
      reply,
      url,
      outcome,
      session.kind === 'alive' ? session.record.identity : undefined,
      read.state.state === 'expired',
    )
  }

  /** `expired`: the session timed out on this request; the login page tells the practitioner so. */
  function answer(
    request: FastifyRequest,
    reply: FastifyReply,
    url: string,
    outcome: Exclude<Outcome, { kind: 'allow' }>,
    identity: RequestSessionIdentity,
    expired: boolean,
  ): void {
    const loginHref = `${prefix}/login?rd=${encodeURIComponent(url)}`
    if (outcome.kind === 'deny') {
      const who =
        identity === undefined
          ? undefined
          : { displayName: `${identity.givenName} ${identity.familyName}`.trim(), idNat: identity.idNat }
      return void sendCode(request, reply, outcome.code, {
        denial: outcome.details,
        who,
        logoutHref: `${prefix}/logout`,
        ...(deps.accountContact !== undefined && { contact: deps.accountContact }),
      })
    }
    if (outcome.kind === 'reject') return void sendCode(request, reply, outcome.code, { retryHref: url })
    if (outcome.to === 'charter') {
      const charterHref = `${prefix}/charter?rd=${encodeURIComponent(url)}`
      if (outcome.via === 'status') return void sendCharterRefusal(request, reply, charterHref)
      return void reply.header('cache-control', 'no-store').redirect(charterHref, 302)
    }
    if (outcome.via === 'status')
      return void sendCode(request, reply, outcome.code, { loginHref, sessionExpired: expired })
    // A login can only finish on the public host: go there first, to the same page.
    const location =
      outcome.to === 'public-host'
        ? config.publicUrl + url
        : expired
          ? `${loginHref}&${SESSION_EXPIRED_PARAM}`
          : loginHref
    reply.header('cache-control', 'no-store').redirect(location, 302)
  }
}

/** The request's scope as the decision leaves it (the gate adds the forward target to an allow). */
export function scopeOf(
  matched: Matched,
  read: ReadSession,
  outcome: Outcome,
): { -readonly [K in keyof RequestScope]: RequestScope[K] } {
  const session = read.session
  const scope: { -readonly [K in keyof RequestScope]: RequestScope[K] } = {
    decision: outcome.kind,
    route: matched.route?.name,
  }
  if (session.kind === 'alive') {
    const identity = session.record.identity
    scope.session = session.record.ref
    scope.idNat = identity.idNat
    // An allowed request names the exercice it was allowed for; any other, the first.
    const inContext = outcome.kind === 'allow' ? outcome.exercice : FIRST_EXERCICE
    const exercice = identity.exercices[inContext.exercice]
    scope.profession = exercice?.professionCode
    if (outcome.kind === 'allow' && exercice !== undefined) {
      scope.exercice = inContext.exercice
      scope.structure = structureReference(exercice.structures[inContext.structure])
    }
  }
  if (outcome.kind !== 'allow') {
    scope.reason = outcome.code
    scope.detail = outcome.kind === 'deny' ? describeDenial(outcome.details) : read.detail
  }
  return scope
}

/**
 * The steps before an outcome is carried out, shared by the gate and forward-auth: match the route
 * table on `target`, read the session, renew its tokens when due, decide; then `carryOut`.
 */
export function createDecisionSteps(deps: GateDeps) {
  const { config, sessions, psc, audit, tokens } = deps
  const prefix = config.prefix
  const cookieName = config.session.cookieName
  const publicHost = publicHostOf(config.publicUrl)

  return function decisionSteps(
    request: FastifyRequest,
    reply: FastifyReply,
    target: RequestTarget,
    carryOut: CarryOut,
  ): void | Promise<void> {
    if (deps.charter !== undefined) carryOut = charterFirst(deps.charter, carryOut)
    const matched = match(target, request)
    if (matched.route === undefined)
      return carryOut(request, reply, matched, NO_SESSION, decide(matched, NO_SESSION.state))
    let read: ReadSession | Promise<ReadSession>
    try {
      read = readSession(request, reply)
    } catch (err) {
      read = storeFailed(err)
    }
    if (read instanceof Promise) return read.then((r) => withSession(request, reply, matched, r, carryOut))
    return withSession(request, reply, matched, read, carryOut)
  }

  function match(request: RequestTarget, received: FastifyRequest): Matched {
    const url = request.url
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    // One snapshot of the routing state for the whole request, even if a reload happens meanwhile.
    const state = deps.state()
    // request.host is the Host header, or X-Forwarded-Host from a trusted proxy: the host matched
    // is the host forwarded upstream. Nothing under the reserved prefix is ever forwarded.
    const reserved = path === prefix || path.startsWith(`${prefix}/`)
    const route = reserved ? undefined : matchRoute(state.routes, { host: request.host, method: request.method, path })
    const upstream = route === undefined ? undefined : state.config.upstreams[route.upstream]
    if (route !== undefined && upstream === undefined)
      throw new Error(`route ${route.name} names an unknown upstream ${route.upstream}`)
    const facts: RequestFacts = {
      method: request.method,
      kind: requestKind(received.headers),
      onPublicHost: isPublicHost(request.host, publicHost),
      encodedTwiceForUpstream: upstream?.decodesTwice === true && encodedTwice(path),
    }
    return { url, host: request.host, state, route, upstream, facts }
  }

  /** The memory store answers without a promise: no await (and no microtask) on that path. */
  function readSession(request: FastifyRequest, reply: FastifyReply): ReadSession | Promise<ReadSession> {
    const read = readRequestSession(request, cookieName, sessions)
    if (read instanceof Promise) return read.then((s) => sessionRead(request, reply, s), storeFailed)
    return sessionRead(request, reply, read)
  }

  function sessionRead(request: FastifyRequest, reply: FastifyReply, session: RequestSession): ReadSession {
    switch (session.kind) {
      case 'alive':
        return { session, state: { state: 'alive', identity: session.record.identity } }
      case 'none':
        return NO_SESSION
      case 'invalid':
        reply.clearCookie(cookieName, { path: '/' })
        return { session, state: NO_SESSION.state, detail: session.problem }
      case 'duplicated':
        reply.clearCookie(cookieName, { path: '/' })
        return { session, state: CONFLICT, detail: 'session cookie sent twice' }
      case 'ended': {
        reply.clearCookie(cookieName, { path: '/' })
        const ref = sessionReference(session.id)
        audit.record(request, { event: 'logout', cause: session.why, session: ref })
        audit.record(request, { event: 'session', outcome: 'ended', reason: session.why, session: ref })
        return { session, state: EXPIRED }
      }
    }
  }

  function storeFailed(err: unknown): ReadSession {
    if (!(err instanceof SessionStoreUnavailable)) throw err
    return {
      session: NO_SESSION.session,
      state: { state: 'unavailable' },
      detail: `session store unavailable: ${err.reason}`,
    }
  }

  function withSession(
    request: FastifyRequest,
    reply: FastifyReply,
    matched: Matched,
    read: ReadSession,
    carryOut: CarryOut,
  ): void | Promise<void> {
    if (read.state.state === 'unavailable') request.log.warn({ detail: read.detail }, 'session store unavailable')
    const outcome = decide(matched, read.state)
    const session = read.session
    // A directory that was down at login is asked again (at most every accounts.retryEvery).
    const renewable =
      outcome.kind === 'allow' || (outcome.kind === 'reject' && outcome.code === PSC_ERR.DIRECTORY_UNAVAILABLE.code)
    // A route with no account condition never waits for the directory: the account is renewed aside.
    const access = matched.route!.access
    const needsAccount = typeof access !== 'string' && (access.account !== undefined || access.groups !== undefined)
    if (renewable && session.kind === 'alive') {
      if (!needsAccount) tokens.refreshAccountInBackground(session.id, session.record)
      if (tokens.needsRefresh(session.record, matched.upstream!.forwardAccessToken, needsAccount)) {
        return renewThenCarryOut(request, reply, matched, { ...read, session }, carryOut, needsAccount)
      }
    }
    return carryOut(request, reply, matched, read, outcome)
  }

  function decide(matched: Matched, session: SessionState): Outcome {
    return decideRequest({
      route: matched.route,
      websocketEnabled: matched.upstream?.websocket === true,
      forwardsAccessToken: matched.upstream?.forwardAccessToken === true,
      session,
      request: matched.facts,
      psc: psc.availability,
      establishments: matched.state.routes.establishments,
    })
  }

  /** The session's tokens are due for renewal (forwarded access token, or re-validation with PSC). */
  async function renewThenCarryOut(
    request: FastifyRequest,
    reply: FastifyReply,
    matched: Matched,
    read: ReadSession & { session: RequestSession & { kind: 'alive' } },
    carryOut: CarryOut,
    needsAccount: boolean,
  ): Promise<void> {
    const alive = read.session
    const identity = alive.record.identity
    const who = {
      session: sessionReference(alive.id),
      idNat: identity.idNat,
      profession: identity.exercices[0]?.professionCode,
    }
    const fresh = await tokens.refresh(alive.id, alive.record, matched.upstream!.forwardAccessToken, needsAccount)
    let renewed: ReadSession
    if (fresh.kind === 'fresh') {
      if (fresh.refreshed) audit.record(request, { event: 'session', outcome: 'refreshed', ...who })
      // the refresh may bring a new local account: decide on the fresh identity
      renewed = {
        session: { ...alive, record: fresh.record },
        state: { state: 'alive', identity: fresh.record.identity },
      }
    } else if (fresh.kind === 'revoked') {
      // PSC ended the practitioner's session: ours ends too.
      request.log.info({ reason: fresh.reason }, 'session not renewed by PSC')
      // endEventually: the store may have stopped answering during the call to PSC.
      await sessions.endEventually(alive.id)
      audit.record(request, { event: 'logout', cause: 'revoked', reason: fresh.reason, ...who })
      audit.record(request, { event: 'session', outcome: 'ended', reason: 'revoked', ...who })
      reply.clearCookie(cookieName, { path: '/' })
      renewed = { session: NO_SESSION.session, state: REVOKED, detail: `session revoked by PSC: ${fresh.reason}` }
    } else {
      renewed = {
        session: alive,
        state: { state: 'tokens-stale', identity },
        detail: `tokens not renewed: ${fresh.reason}`,
      }
    }
    await carryOut(request, reply, matched, renewed, decide(matched, renewed.state))
  }
}

/**
 * Runs the IT charter's check on what the route rules allowed to a practitioner (public routes
 * apart), then carries out the outcome, or the charter's instead.
 */
function charterFirst(charter: CharterRequirement, carryOut: CarryOut): CarryOut {
  return (request, reply, matched, read, outcome) => {
    if (outcome.kind !== 'allow' || outcome.identity === undefined || matched.route?.access === 'public')
      return carryOut(request, reply, matched, read, outcome)
    const q = matched.url.indexOf('?')
    const asked = charter.check({
      host: matched.host,
      path: q === -1 ? matched.url : matched.url.slice(0, q),
      redirectable:
        matched.facts.kind === 'navigation' && (matched.facts.method === 'GET' || matched.facts.method === 'HEAD'),
      idNat: outcome.identity.idNat,
    })
    if (asked instanceof Promise)
      return asked.then((instead) => carryOut(request, reply, matched, read, instead ?? outcome))
    return carryOut(request, reply, matched, read, asked ?? outcome)
  }
}

type RequestSessionIdentity = (RequestSession & { kind: 'alive' })['record']['identity'] | undefined
