// The request scope: what the gateway decided about one request, written once and frozen (as
// oauth2-proxy's middleware scope). The proxy reads its target, the audit trail its facts, the
// metrics its decision and code; nothing writes it back, and nobody guesses a decision from a
// status code.
import type { PscErrorCode } from './errors.js'
import type { ForwardTarget } from './proxy/forward.js'

export type Decision = 'allow' | 'deny' | 'login' | 'reject'

export interface RequestScope {
  readonly decision: Decision
  /** the outcome code of anything but a plain allow; also the audit's "reason" */
  readonly reason?: PscErrorCode | undefined
  /** technical detail for the log and the audit (English, no personal data) */
  readonly detail?: string | undefined
  readonly route?: string | undefined
  /** the session's reference (a hash of its id) */
  readonly session?: string | undefined
  readonly idNat?: string | undefined
  /** the profession code of the exercice in context (of the first exercice when nothing was allowed) */
  readonly profession?: string | undefined
  /** an allowed request: the index (PSC order) of the exercice it was allowed for, described upstream */
  readonly exercice?: number | undefined
  /** and the structure of that exercice described upstream (FINESS site, else SIRET, else id) */
  readonly structure?: string | undefined
  /** the path could not be normalised: it is not written to the audit */
  readonly invalidPath?: boolean
  /** set for an allowed request bound for an upstream */
  readonly target?: ForwardTarget | undefined
}

declare module 'fastify' {
  interface FastifyRequest {
    pscScope: RequestScope | null
  }
}

/** Writes the request's scope; a second write is a bug in the gateway, never silently accepted. */
export function setScope(request: { pscScope: RequestScope | null }, scope: RequestScope): void {
  if (request.pscScope !== null) throw new Error('request scope written twice')
  request.pscScope = Object.freeze(scope)
}
