// A login that could not be finished, and how openid-client's errors are told (audit, log, page).
// Its own file so that both ways of logging in (login-flow.ts, CIBA) and session-start.ts share it
// without an import cycle.
import * as oidc from 'openid-client'
import {
  PSC_ERR,
  type CodeDefinition,
  type PscErrorCode,
  PSC_ERR_CLIENT_CERTIFICATE_REFUSED,
  PSC_ERR_OUTBOUND_PROXY,
  type OutboundErrorCode,
} from '../errors.js'
import { outboundFailureOf } from './psc-client.js'

/**
 * A login that could not be finished: its code (for the page, the audit and the metrics), the
 * technical detail (log and audit only), and the practitioner's idNat when PSC had already said
 * who they are (a refusal after authentication is about someone).
 */
export class LoginFailure extends Error {
  readonly code: PscErrorCode
  readonly status: number
  constructor(
    definition: CodeDefinition<PscErrorCode>,
    readonly detail: string,
    readonly idNat?: string,
    /**
     * when PSC could not be reached, whose fault: PSC_ERR_OUTBOUND_PROXY (the hospital's outbound
     * proxy), PSC_ERR_PSC_UNREACHABLE, PSC_ERR_PSC_TLS, ... (PSC_ERR_OUTBOUND in errors.ts)
     */
    readonly outboundCode?: OutboundErrorCode,
  ) {
    super(`${definition.message}: ${detail}`)
    this.code = definition.code
    this.status = definition.status
  }
}

/**
 * PSC not reached at all (the proxy, the network, TLS): the detail names whose fault it is, and the
 * hospital's outbound proxy gets its own code (its own page: PSC is not at fault).
 */
export function unreachableFailure(err: unknown, prefix = '', idNat?: string): LoginFailure | undefined {
  const outbound = outboundFailureOf(err)
  if (outbound === undefined) return undefined
  const definition =
    outbound.code === PSC_ERR_OUTBOUND_PROXY
      ? PSC_ERR.LOGIN_OUTBOUND_PROXY
      : outbound.code === PSC_ERR_CLIENT_CERTIFICATE_REFUSED
        ? PSC_ERR.LOGIN_CLIENT_CERTIFICATE
        : PSC_ERR.LOGIN_PSC_UNREACHABLE
  return new LoginFailure(definition, `${prefix}${outbound.code}: ${outbound.reason}`, idNat, outbound.code)
}

/** PSC could not be reached or answered nonsense (as opposed to a clear OAuth error). */
export function isUpstreamFailure(err: unknown): boolean {
  if (err instanceof oidc.ResponseBodyError || err instanceof oidc.AuthorizationResponseError) return false
  const code = (err as { code?: unknown } | null)?.code
  return (
    code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' ||
    code === 'OAUTH_RESPONSE_IS_NOT_JSON' ||
    err instanceof TypeError ||
    (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
  )
}

/** openid-client errors say precisely what was wrong; they never carry a secret or a token. */
export function describeOidcError(err: unknown): string {
  if (err instanceof oidc.AuthorizationResponseError || err instanceof oidc.ResponseBodyError) {
    return `PSC answered ${err.error}${err.error_description ? `: ${err.error_description}` : ''}`
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return `${err.message}${typeof code === 'string' ? ` (${code})` : ''}`
  }
  return String(err)
}
