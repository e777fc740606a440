// Every outcome and error the gateway can give a request, by a stable code, as fastify's
// lib/errors.js does. A code is what flows into the audit trail, the metrics' labels and the page a
// person sees (pages/ turns it into French or English); the English message here is for the
// operational log only. Nothing anywhere matches on message text: rewording a message moves nothing.

export interface CodeDefinition<C extends string = string> {
  readonly code: C
  /** HTTP status of the answer */
  readonly status: number
  /** English, technical, for the log */
  readonly message: string
}

function define<C extends string>(code: C, status: number, message: string): CodeDefinition<C> {
  return Object.freeze({ code, status, message })
}

export const PSC_ERR = Object.freeze({
  // Refused before any rule: the request itself is wrong.
  INVALID_TARGET: define('PSC_ERR_INVALID_TARGET', 400, 'request target cannot be normalised'),
  DUPLICATE_HOST: define('PSC_ERR_DUPLICATE_HOST', 400, 'more than one Host header'),
  DOUBLE_ENCODED_TARGET: define(
    'PSC_ERR_DOUBLE_ENCODED_TARGET',
    400,
    'path carries percent-encoding that the upstream (decodesTwice) would decode a second time',
  ),
  BAD_REQUEST: define('PSC_ERR_BAD_REQUEST', 400, 'malformed request'),
  HEADERS_TOO_LARGE: define('PSC_ERR_HEADERS_TOO_LARGE', 431, 'request headers too large'),
  NO_ROUTE: define('PSC_ERR_NO_ROUTE', 404, 'no route matches'),
  WEBSOCKET_DISABLED: define('PSC_ERR_WEBSOCKET_DISABLED', 400, 'WebSocket is not enabled for this upstream'),
  WRONG_HOST: define('PSC_ERR_WRONG_HOST', 421, "request for a host that is not the gateway's public host"),
  PAYLOAD_TOO_LARGE: define('PSC_ERR_PAYLOAD_TOO_LARGE', 413, 'request body over the limit'),
  TOO_MANY_REQUESTS: define('PSC_ERR_TOO_MANY_REQUESTS', 429, 'rate limit reached'),
  DUPLICATE_SESSION_COOKIE: define('PSC_ERR_DUPLICATE_SESSION_COOKIE', 400, 'the session cookie was sent twice'),
  LOGOUT_DUPLICATE_SESSION_COOKIE: define(
    'PSC_ERR_LOGOUT_DUPLICATE_SESSION_COOKIE',
    400,
    'logout with the session cookie sent twice: no session was ended',
  ),
  CROSS_SITE: define('PSC_ERR_CROSS_SITE', 403, 'cross-site request to a state-changing endpoint'),

  // A login is needed.
  LOGIN_REQUIRED: define('PSC_ERR_LOGIN_REQUIRED', 401, 'login required'),
  LOGIN_REQUIRED_FORM_LOST: define(
    'PSC_ERR_LOGIN_REQUIRED_FORM_LOST',
    401,
    'login required; the request body was not forwarded',
  ),

  // Refused by the route's rules (403).
  DENIED_IDNAT: define('PSC_ERR_DENIED_IDNAT', 403, "national id not in the route's list"),
  DENIED_PROFESSION: define('PSC_ERR_DENIED_PROFESSION', 403, 'profession not allowed by the route'),
  DENIED_CATEGORY: define('PSC_ERR_DENIED_CATEGORY', 403, 'professional category not allowed by the route'),
  DENIED_SPECIALTY: define('PSC_ERR_DENIED_SPECIALTY', 403, 'specialty not allowed by the route'),
  DENIED_NO_EXERCICE: define('PSC_ERR_DENIED_NO_EXERCICE', 403, 'no professional exercice'),
  DENIED_EXERCICE: define('PSC_ERR_DENIED_EXERCICE', 403, 'no single exercice meets every condition of the route'),

  // Something the gateway depends on is missing: retry later.
  STORE_UNAVAILABLE: define('PSC_ERR_STORE_UNAVAILABLE', 503, 'session store unavailable'),
  PSC_UNAVAILABLE: define('PSC_ERR_PSC_UNAVAILABLE', 503, 'PSC discovery not available'),
  // Not PSC's fault: the hospital's own network. Told apart so that nobody calls ANS for it.
  OUTBOUND_PROXY_UNAVAILABLE: define(
    'PSC_ERR_OUTBOUND_PROXY_UNAVAILABLE',
    503,
    "the hospital's outbound proxy refused or cannot be reached: PSC was not tried",
  ),
  TOKEN_NOT_RENEWED: define('PSC_ERR_TOKEN_NOT_RENEWED', 503, 'access token could not be renewed with PSC'),
  SHUTTING_DOWN: define('PSC_ERR_SHUTTING_DOWN', 503, 'this instance is shutting down'),
  AUDIT_UNAVAILABLE: define(
    'PSC_ERR_AUDIT_UNAVAILABLE',
    503,
    'the audit trail cannot be written: nothing is served without a trace',
  ),
  UPSTREAM_UNAVAILABLE: define('PSC_ERR_UPSTREAM_UNAVAILABLE', 502, 'upstream unreachable or failed'),
  UPSTREAM_TIMEOUT: define('PSC_ERR_UPSTREAM_TIMEOUT', 504, 'upstream timed out'),
  INTERNAL: define('PSC_ERR_INTERNAL', 500, 'unexpected error'),
  // Never sent (nobody is left to read it): the access event of a request whose client closed the
  // connection before the gateway decided anything (e.g. while it waited for the audit output).
  // 499 as nginx logs it: "client closed request".
  CLIENT_GONE: define(
    'PSC_ERR_CLIENT_GONE',
    499,
    'the client closed the connection before an answer was decided; nothing was sent',
  ),

  // A login that did not finish (the callback, or a login started then refused).
  LOGIN_NO_STATE: define('PSC_ERR_LOGIN_NO_STATE', 400, 'callback without state'),
  LOGIN_UNKNOWN_STATE: define(
    'PSC_ERR_LOGIN_UNKNOWN_STATE',
    400,
    'callback state matches no login started in this browser',
  ),
  LOGIN_PSC_ERROR: define('PSC_ERR_LOGIN_PSC_ERROR', 400, 'PSC answered an error'),
  LOGIN_CANCELLED: define('PSC_ERR_LOGIN_CANCELLED', 400, 'the practitioner cancelled or refused at PSC'),
  LOGIN_NO_ID_TOKEN: define('PSC_ERR_LOGIN_NO_ID_TOKEN', 502, 'PSC returned no ID token'),
  LOGIN_ACR_TOO_LOW: define('PSC_ERR_LOGIN_ACR_TOO_LOW', 403, 'authentication level below the required one'),
  LOGIN_USERINFO: define('PSC_ERR_LOGIN_USERINFO', 502, 'UserInfo could not be read'),
  LOGIN_PSC_UNREACHABLE: define('PSC_ERR_LOGIN_PSC_UNREACHABLE', 502, 'PSC unreachable during the login'),
  LOGIN_OUTBOUND_PROXY: define(
    'PSC_ERR_LOGIN_OUTBOUND_PROXY',
    502,
    "the hospital's outbound proxy refused or was unreachable at the end of the login: PSC was not reached",
  ),
  LOGIN_CLIENT_CERTIFICATE: define(
    'PSC_ERR_LOGIN_CLIENT_CERTIFICATE',
    502,
    "PSC refused the gateway's client certificate (mTLS) in the TLS handshake at the end of the login",
  ),
  LOGIN_STORE_UNAVAILABLE: define(
    'PSC_ERR_LOGIN_STORE_UNAVAILABLE',
    503,
    'session store unavailable at the end of the login',
  ),

  // Establishments and local accounts: refused by the route's rules, or the account
  // directory could not say who the practitioner is in the application.
  DENIED_STRUCTURE: define('PSC_ERR_DENIED_STRUCTURE', 403, 'no exercice in an establishment the route allows'),
  DENIED_GROUP: define('PSC_ERR_DENIED_GROUP', 403, 'local account in none of the groups the route allows'),
  DENIED_NO_ACCOUNT: define('PSC_ERR_DENIED_NO_ACCOUNT', 403, 'no local account, and the route requires one'),
  DENIED_ACCOUNT_DUPLICATE: define(
    'PSC_ERR_DENIED_ACCOUNT_DUPLICATE',
    403,
    'several directory entries match the practitioner, and the route requires an account',
  ),
  DENIED_ACCOUNT_DISABLED: define(
    'PSC_ERR_DENIED_ACCOUNT_DISABLED',
    403,
    'the local account is disabled in Active Directory (userAccountControl), and the route requires an account',
  ),
  DIRECTORY_UNAVAILABLE: define(
    'PSC_ERR_DIRECTORY_UNAVAILABLE',
    503,
    'account directory unavailable and no usable cached answer',
  ),

  // The IT charter: the practitioner has not accepted its version in force yet.
  CHARTER_REQUIRED: define(
    'PSC_ERR_CHARTER_REQUIRED',
    403,
    'the current version of the IT charter is not accepted yet',
  ),
})

/**
 * The CIBA login's own codes (login by e-CPS notification). A CIBA answer's audit `reason` is the
 * nearest code of PSC_ERR above (so metrics and alerts need nothing new); its CIBA code comes first
 * in the `detail` ("PSC_ERR_CIBA_DENIED: ..."), for the log, the audit and docs/troubleshooting.md.
 */
export const PSC_ERR_CIBA = Object.freeze({
  DENIED: define('PSC_ERR_CIBA_DENIED', 403, 'the practitioner refused the notification'),
  EXPIRED: define('PSC_ERR_CIBA_EXPIRED', 410, 'no answer before the request expired'),
  UNKNOWN_ID: define('PSC_ERR_CIBA_UNKNOWN_ID', 400, 'PSC knows no e-CPS user with this identifier'),
  LIMITED: define('PSC_ERR_CIBA_LIMITED', 429, 'an abuse limit refused the notification'),
  PSC_UNAVAILABLE: define('PSC_ERR_CIBA_PSC_UNAVAILABLE', 503, 'PSC unreachable for the request or its polling'),
  FAILED: define('PSC_ERR_CIBA_FAILED', 502, 'PSC refused the request or answered an error'),
  CANCELLED: define('PSC_ERR_CIBA_CANCELLED', 200, 'given up on the waiting page'),
  NOT_OFFERED: define('PSC_ERR_CIBA_NOT_OFFERED', 403, 'CIBA is not offered for this page'),
  BAD_LOGIN_HINT: define('PSC_ERR_CIBA_BAD_LOGIN_HINT', 400, 'the identifier typed cannot be an RPPS or an idNat'),
  UNKNOWN_REQUEST: define('PSC_ERR_CIBA_UNKNOWN_REQUEST', 404, 'no CIBA request of this browser is known'),
})

/**
 * Why a call to PSC failed (oidc/outbound-http.ts), told apart so that "the hospital's outbound proxy
 * refused" is not "PSC is unreachable". They name the state of the link to PSC in the log, /readyz and
 * doctor; a login that meets one answers with the nearest PSC_ERR_LOGIN_* code above.
 */
export const PSC_ERR_OUTBOUND = Object.freeze({
  OUTBOUND_PROXY: define(
    'PSC_ERR_OUTBOUND_PROXY',
    502,
    "the outbound proxy refused the call (403, 407) or cannot be reached: the hospital's network, not PSC",
  ),
  PSC_UNREACHABLE: define(
    'PSC_ERR_PSC_UNREACHABLE',
    502,
    'PSC cannot be reached (directly or through the outbound proxy) or did not answer in time',
  ),
  PSC_TLS: define(
    'PSC_ERR_PSC_TLS',
    502,
    'TLS with PSC failed: certificate chain not trusted (psc.tls.ca), wrong name or handshake refused',
  ),
  PSC_RESPONSE: define(
    'PSC_ERR_PSC_RESPONSE',
    502,
    'PSC answered, but not what the gateway needs (discovery for another issuer, not JSON, 5xx)',
  ),
  CLIENT_CERTIFICATE: define(
    'PSC_ERR_CLIENT_CERTIFICATE',
    502,
    "the gateway's client certificate is expired or not yet valid: PSC will refuse it",
  ),
  CLIENT_CERTIFICATE_REFUSED: define(
    'PSC_ERR_CLIENT_CERTIFICATE_REFUSED',
    502,
    "PSC refused the gateway's client certificate in the TLS handshake",
  ),
})
export const PSC_ERR_OUTBOUND_PROXY = PSC_ERR_OUTBOUND.OUTBOUND_PROXY.code
export const PSC_ERR_PSC_UNREACHABLE = PSC_ERR_OUTBOUND.PSC_UNREACHABLE.code
export const PSC_ERR_PSC_TLS = PSC_ERR_OUTBOUND.PSC_TLS.code
export const PSC_ERR_PSC_RESPONSE = PSC_ERR_OUTBOUND.PSC_RESPONSE.code
export const PSC_ERR_CLIENT_CERTIFICATE = PSC_ERR_OUTBOUND.CLIENT_CERTIFICATE.code
export const PSC_ERR_CLIENT_CERTIFICATE_REFUSED = PSC_ERR_OUTBOUND.CLIENT_CERTIFICATE_REFUSED.code
export type OutboundErrorCode = (typeof PSC_ERR_OUTBOUND)[keyof typeof PSC_ERR_OUTBOUND]['code']

/**
 * The forward-auth endpoint's refusals before any route rule. The answer and the audit reason are
 * PSC_ERR_BAD_REQUEST; this code goes in the error header and first in the audit detail.
 */
export const PSC_ERR_FORWARD_AUTH = Object.freeze({
  UNTRUSTED_PEER: define(
    'PSC_ERR_FORWARD_AUTH_UNTRUSTED_PEER',
    400,
    'bare forward-auth request from an address not in trustedProxies: its headers cannot be believed',
  ),
  INCOMPLETE: define(
    'PSC_ERR_FORWARD_AUTH_INCOMPLETE',
    400,
    'no original URI or method in the forward-auth sub-request',
  ),
  CONFLICT: define(
    'PSC_ERR_FORWARD_AUTH_CONFLICT',
    400,
    'the two spellings of a forward-auth header disagree, or one is repeated',
  ),
})

export type PscErrorKey = keyof typeof PSC_ERR
export type PscErrorCode = (typeof PSC_ERR)[PscErrorKey]['code']
export type DenyCode =
  | typeof PSC_ERR.DENIED_IDNAT.code
  | typeof PSC_ERR.DENIED_PROFESSION.code
  | typeof PSC_ERR.DENIED_CATEGORY.code
  | typeof PSC_ERR.DENIED_SPECIALTY.code
  | typeof PSC_ERR.DENIED_NO_EXERCICE.code
  | typeof PSC_ERR.DENIED_EXERCICE.code
  | typeof PSC_ERR.DENIED_STRUCTURE.code
  | typeof PSC_ERR.DENIED_GROUP.code
  | typeof PSC_ERR.DENIED_NO_ACCOUNT.code
  | typeof PSC_ERR.DENIED_ACCOUNT_DUPLICATE.code
  | typeof PSC_ERR.DENIED_ACCOUNT_DISABLED.code

const BY_CODE: ReadonlyMap<string, CodeDefinition> = new Map(Object.values(PSC_ERR).map((d) => [d.code, d]))

export function definitionOf(code: PscErrorCode): CodeDefinition {
  return BY_CODE.get(code)!
}

export function isPscErrorCode(value: unknown): value is PscErrorCode {
  return typeof value === 'string' && BY_CODE.has(value)
}

/** An error carrying one of the codes above, with technical detail for the log and the audit. */
export class PscError extends Error {
  readonly code: PscErrorCode
  readonly statusCode: number
  /** technical, English, never shown to a practitioner unless pages.showDetails */
  readonly detail: string | undefined
  constructor(definition: CodeDefinition<PscErrorCode>, detail?: string, options?: { cause?: unknown }) {
    super(detail === undefined ? definition.message : `${definition.message}: ${detail}`, options)
    this.name = 'PscError'
    this.code = definition.code
    this.statusCode = definition.status
    this.detail = detail
  }
}
