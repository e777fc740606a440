// A login that could not be finished, and how openid-client's errors are told (audit, log, page).
import * as oidc from 'openid-client'

/** A login that could not be finished, with a reason fit for the audit trail and the error page. */
export class LoginFailure extends Error {
  constructor(readonly reason: string, readonly status = 400) {
    super(reason)
  }
}

/** PSC could not be reached or answered nonsense (as opposed to a clear OAuth error). */
export function isUpstreamFailure(err: unknown): boolean {
  if (err instanceof oidc.ResponseBodyError || err instanceof oidc.AuthorizationResponseError) return false
  const code = (err as { code?: unknown } | null)?.code
  return code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || code === 'OAUTH_RESPONSE_IS_NOT_JSON' || err instanceof TypeError ||
    (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
}

/** openid-client errors say precisely what was wrong; they never carry a secret or a token. */
export function describeOidcError(err: unknown): string {
  if (err instanceof oidc.AuthorizationResponseError || err instanceof oidc.ResponseBodyError) {
    return `PSC answered ${err.error}${err.error_description ? ': ' + err.error_description : ''}`
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return `${err.message}${typeof code === 'string' ? ` (${code})` : ''}`
  }
  return String(err)
}
