// The one decision for a request bound for an upstream: every access rule of the gateway lives
// here, as pure code. The gate (gate.ts) gathers the facts (route, session state, request kind),
// calls decideRequest, and carries out the outcome; it decides nothing itself.
import { PSC_ERR, type DenyCode, type PscErrorCode } from '../errors.js'
import type { Identity } from '../psc/identity.js'
import { decideAccess, type DenialDetails } from './decide.js'
import type { AccessStructureEntry } from './establishments.js'
import { exerciceInContext, FIRST_EXERCICE, type ExerciceInContext } from './exercice-in-context.js'
import type { RequestKind } from './request-kind.js'
import type { CompiledRoute } from './rules.js'

/** What the gate knows of the session once it has read it (and renewed its tokens when due). */
export type SessionState =
  | { readonly state: 'none' }
  /** the cookie pointed at a session that timed out: a form posted now is lost */
  | { readonly state: 'expired' }
  | { readonly state: 'alive'; readonly identity: Identity }
  /** the session cookie came twice (one planted): neither is believed, and no login can fix it */
  | { readonly state: 'conflict' }
  /** the store did not answer: nobody can be known */
  | { readonly state: 'unavailable' }
  /** PSC refused to renew the session's tokens: it has just ended */
  | { readonly state: 'revoked' }
  /** alive, but PSC could not be asked for the fresh access token this upstream needs */
  | { readonly state: 'tokens-stale'; readonly identity: Identity }

export interface RequestFacts {
  readonly method: string
  readonly kind: RequestKind
  /** the Host is the gateway's public host (logins can only finish there) */
  readonly onPublicHost: boolean
  /** the route's upstream decodes percent-encoding twice and the path carries an encoded percent sign (double-decoding.ts) */
  readonly encodedTwiceForUpstream?: boolean
}

export interface DecisionInput {
  readonly route: CompiledRoute | undefined
  /** the route's upstream accepts WebSocket upgrades */
  readonly websocketEnabled: boolean
  /** the route's upstream needs the practitioner's PSC access token */
  readonly forwardsAccessToken: boolean
  readonly session: SessionState
  readonly request: RequestFacts
  /**
   * whether a login can start: PSC's discovery is loaded (`ready`), or why not: PSC itself
   * (`unreachable`) or the hospital's outbound proxy in front of it (`outbound-proxy`)
   */
  readonly psc: PscAvailability
  /** the establishments the configuration names (RouteTable.establishments): the exercice in context is looked for there first */
  readonly establishments?: readonly AccessStructureEntry[]
}

export type PscAvailability = 'ready' | 'unreachable' | 'outbound-proxy'

export type Outcome =
  /**
   * forward upstream, with the identity when there is one, and the exercice the request was
   * allowed for (exercice-in-context.ts): the one the headers, the assertion and the audit describe
   */
  | { readonly kind: 'allow'; readonly identity: Identity | undefined; readonly exercice: ExerciceInContext }
  /**
   * a login is needed: `redirect` sends a browser navigation to the login (or first to the public
   * host, where the login can finish); `status` answers 401 with a link to it. `charter`: logged
   * in, but the IT charter in force is not accepted yet (its page, or 403 for what is not a navigation)
   */
  | {
      readonly kind: 'login'
      readonly via: 'redirect' | 'status'
      readonly to: 'login' | 'public-host' | 'charter'
      readonly code: PscErrorCode
    }
  /** refused by the route's rules (403) */
  | { readonly kind: 'deny'; readonly code: DenyCode; readonly details: DenialDetails }
  /** refused before or outside the rules (400, 404, 503) */
  | { readonly kind: 'reject'; readonly code: PscErrorCode }

const ALLOW_ANONYMOUS: Outcome = Object.freeze({ kind: 'allow', identity: undefined, exercice: FIRST_EXERCICE })
const rejections = new Map<PscErrorCode, Outcome>()
function reject(code: PscErrorCode): Outcome {
  let outcome = rejections.get(code)
  if (outcome === undefined) {
    outcome = Object.freeze({ kind: 'reject', code })
    rejections.set(code, outcome)
  }
  return outcome
}
const LOGIN_REDIRECT: Outcome = Object.freeze({
  kind: 'login',
  via: 'redirect',
  to: 'login',
  code: PSC_ERR.LOGIN_REQUIRED.code,
})
const LOGIN_VIA_PUBLIC_HOST: Outcome = Object.freeze({
  kind: 'login',
  via: 'redirect',
  to: 'public-host',
  code: PSC_ERR.LOGIN_REQUIRED.code,
})
const LOGIN_STATUS: Outcome = Object.freeze({
  kind: 'login',
  via: 'status',
  to: 'login',
  code: PSC_ERR.LOGIN_REQUIRED.code,
})
const LOGIN_FORM_LOST: Outcome = Object.freeze({
  kind: 'login',
  via: 'status',
  to: 'login',
  code: PSC_ERR.LOGIN_REQUIRED_FORM_LOST.code,
})

export function decideRequest(input: DecisionInput): Outcome {
  const { route, session, request } = input
  // Nothing under the reserved prefix, and nothing no route names, is ever forwarded.
  if (route === undefined) return reject(PSC_ERR.NO_ROUTE.code)
  if (request.kind === 'websocket' && !input.websocketEnabled) return reject(PSC_ERR.WEBSOCKET_DISABLED.code)
  // What the upstream would decode into a path nobody authorised is never forwarded, whoever asks.
  if (request.encodedTwiceForUpstream === true) return reject(PSC_ERR.DOUBLE_ENCODED_TARGET.code)
  switch (session.state) {
    case 'alive':
      return decideKnown(route, session.identity, input.establishments)
    case 'tokens-stale':
      // Re-validation alone keeps the session while PSC is unreachable; an upstream that needs a
      // fresh PSC access token cannot be served without one: try again later, session kept.
      return input.forwardsAccessToken
        ? reject(PSC_ERR.TOKEN_NOT_RENEWED.code)
        : decideKnown(route, session.identity, input.establishments)
    case 'conflict':
      // A login would set one cookie and the browser would send both again: a loop. Say what to do.
      return route.access === 'public' ? ALLOW_ANONYMOUS : reject(PSC_ERR.DUPLICATE_SESSION_COOKIE.code)
    case 'unavailable':
      // Fail closed: without the store nobody is known. Public routes still work, anonymously.
      return route.access === 'public' ? ALLOW_ANONYMOUS : reject(PSC_ERR.STORE_UNAVAILABLE.code)
    default:
      return route.access === 'public' ? ALLOW_ANONYMOUS : login(input)
  }
}

function decideKnown(
  route: CompiledRoute,
  identity: Identity,
  establishments: readonly AccessStructureEntry[] = [],
): Outcome {
  const verdict = decideAccess(route, identity)
  if (verdict.kind === 'allow')
    return { kind: 'allow', identity, exercice: exerciceInContext(route, identity, establishments) }
  // the account directory could not say who the practitioner is here
  if (verdict.kind === 'reject') return reject(verdict.code)
  return verdict
}

/**
 * Only a browser navigation can follow a redirect to PSC and come back. A sub-resource (an image, a
 * script, the favicon), an XHR or API call gets 401 and starts nothing; a form posted without a
 * session gets 401 with a page that says its data was not sent (a redirect would lose it silently).
 */
function login({ request, psc }: DecisionInput): Outcome {
  const navigation = request.kind === 'navigation'
  const readOnly = request.method === 'GET' || request.method === 'HEAD'
  if (navigation && !readOnly) return LOGIN_FORM_LOST
  if (!navigation || !readOnly) return LOGIN_STATUS
  // A login can only finish on the public host (the callback and the login cookie live there).
  if (!request.onPublicHost) return LOGIN_VIA_PUBLIC_HOST
  if (psc === 'ready') return LOGIN_REDIRECT
  return reject(psc === 'outbound-proxy' ? PSC_ERR.OUTBOUND_PROXY_UNAVAILABLE.code : PSC_ERR.PSC_UNAVAILABLE.code)
}
