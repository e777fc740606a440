// The access gate, an executor with no rules of its own: for every request bound for an upstream it
// matches the route table, reads the session, renews its tokens when due, asks policy/decideRequest
// for the outcome, writes the request's scope once, and carries the outcome out (the proxy forwards
// an allowed request; anything else is answered here). Each step is in gate/.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { decideRequest, type Outcome, type SessionState } from './policy/decide-request.js'
import { setScope } from './scope.js'
import { sessionCookieOptions } from './session/cookies.js'
import { renewCookieIfNeeded } from './session/request-session.js'
import { createOutcomeAnswer } from './gate/answer-outcome.js'
import { charterFirst } from './gate/charter-step.js'
import { scopeOf } from './gate/decision-scope.js'
import type { CarryOut, GateDeps, Matched, ReadSession, RequestTarget } from './gate/gate-types.js'
import { createSessionRead, NO_SESSION } from './gate/read-session.js'
import { createRouteMatch } from './gate/route-match.js'
import { createTokenRenewal } from './gate/token-renewal.js'

export type { CarryOut, GateDeps, Matched, ReadSession, RequestTarget, RoutingState } from './gate/gate-types.js'
export { scopeOf }

export function createAccessGate(deps: GateDeps) {
  const { config } = deps
  const cookieName = config.session.cookieName
  const cookieOptions = sessionCookieOptions({
    secure: config.secure,
    maxAgeSeconds: Math.floor(config.session.absoluteTimeoutMs / 1000),
  })
  const steps = createDecisionSteps(deps)
  const answer = createOutcomeAnswer(config, deps.accountContact)

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
}

/**
 * The steps before an outcome is carried out, shared by the gate and forward-auth: match the route
 * table on `target`, read the session, decide, renew its tokens when due (and decide again); then
 * `carryOut`, after the IT charter's step when there is a charter.
 */
export function createDecisionSteps(deps: GateDeps) {
  const { config, psc } = deps
  const match = createRouteMatch(config, deps.state)
  const readSession = createSessionRead(config.session.cookieName, deps.sessions, deps.audit)
  const renewal = createTokenRenewal({
    tokens: deps.tokens,
    sessions: deps.sessions,
    audit: deps.audit,
    cookieName: config.session.cookieName,
  })

  // The charter's step wraps the caller's carryOut once, not on every request (a closure each).
  let given: CarryOut | undefined
  let wrapped: CarryOut | undefined
  const withCharter = (carryOut: CarryOut): CarryOut => {
    if (deps.charter === undefined) return carryOut
    if (carryOut !== given) {
      given = carryOut
      wrapped = charterFirst(deps.charter, carryOut)
    }
    return wrapped!
  }

  return function decisionSteps(
    request: FastifyRequest,
    reply: FastifyReply,
    target: RequestTarget,
    carryOut: CarryOut,
  ): void | Promise<void> {
    carryOut = withCharter(carryOut)
    const matched = match(target, request)
    if (matched.route === undefined)
      return carryOut(request, reply, matched, NO_SESSION, decide(matched, NO_SESSION.state))
    const read = readSession(request, reply)
    if (read instanceof Promise) return read.then((r) => withSession(request, reply, matched, r, carryOut))
    return withSession(request, reply, matched, read, carryOut)
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
    const due = renewal.due(matched, read, outcome)
    if (due === undefined) return carryOut(request, reply, matched, read, outcome)
    return renewal
      .renew(request, reply, matched, due)
      .then((renewed) => carryOut(request, reply, matched, renewed, decide(matched, renewed.state)))
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
}
