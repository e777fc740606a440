// What the gate's steps hand each other: the dependencies, the request the decision is about, what
// the route match learnt, the session as read, and the step that carries an outcome out.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuditTrail } from '../audit/trail.js'
import type { GatewayConfig, UpstreamSettings } from '../config/types.js'
import type { CharterRequirement } from '../endpoints/charter-requirement.js'
import type { PscClient } from '../oidc/psc-client.js'
import type { TokenKeeper } from '../oidc/token-keeper.js'
import type { Outcome, RequestFacts, SessionState } from '../policy/decide-request.js'
import type { CompiledRoute, RouteTable } from '../policy/rules.js'
import type { ForwardingRules } from '../proxy/forwarding-rules.js'
import type { SessionManager } from '../session/manager.js'
import type { RequestSession } from '../session/request-session.js'

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

/** The identity of an alive session, for the pages that name who is logged in. */
export type RequestSessionIdentity = (RequestSession & { kind: 'alive' })['record']['identity'] | undefined
