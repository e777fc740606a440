// The OpenID Connect steps with PSC, on openid-client: build the authorization request, finish the
// callback, and build the logout URL. No fastify here, so the steps can be read in one place.
import * as oidc from 'openid-client'
import type { GatewayConfig } from '../config/types.js'
import { acrSatisfies } from '../psc/acr.js'
import type { Identity } from '../psc/identity.js'
import { identityFromPsc } from '../psc/mapUserInfo.js'
import type { NewSession } from '../session/manager.js'
import type { LoginTransaction } from './transaction.js'
import { outboundFailureOf } from './psc-client.js'

export async function startLogin(
  configuration: oidc.Configuration,
  psc: GatewayConfig['psc'],
  returnTo: string,
  expiresAt: number
): Promise<{ url: URL; transaction: LoginTransaction }> {
  const verifier = oidc.randomPKCECodeVerifier()
  const transaction: LoginTransaction = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier, returnTo, expiresAt }
  const url = oidc.buildAuthorizationUrl(configuration, {
    redirect_uri: psc.redirectUri,
    response_type: 'code',
    scope: psc.scope,
    acr_values: psc.acr,
    state: transaction.state,
    nonce: transaction.nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256'
  })
  return { url, transaction }
}

/** A login that could not be finished, with a reason fit for the audit trail and the error page. */
export class LoginFailure extends Error {
  /**
   * set when PSC could not be reached: PSC_ERR_OUTBOUND_PROXY (the hospital's proxy), or
   * PSC_ERR_PSC_UNREACHABLE / PSC_ERR_PSC_TLS / ... (see outbound-http.ts), for the page and the audit
   */
  readonly code: string | undefined
  constructor(readonly reason: string, readonly status = 400, code?: string) {
    super(reason)
    this.code = code
  }
}

function failureOf(err: unknown, prefix = ''): LoginFailure {
  const outbound = outboundFailureOf(err)
  if (outbound !== undefined) return new LoginFailure(`${prefix}${outbound.reason}`, 502, outbound.code)
  return new LoginFailure(`${prefix}${describeOidcError(err)}`, isUpstreamFailure(err) ? 502 : 400)
}

export async function finishLogin(
  configuration: oidc.Configuration,
  psc: GatewayConfig['psc'],
  callbackUrl: URL,
  transaction: LoginTransaction,
  now: number
): Promise<NewSession> {
  let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>
  try {
    tokens = await oidc.authorizationCodeGrant(configuration, callbackUrl, {
      pkceCodeVerifier: transaction.verifier,
      expectedState: transaction.state,
      expectedNonce: transaction.nonce,
      idTokenExpected: true
    })
  } catch (err) {
    throw failureOf(err)
  }
  const claims = tokens.claims()
  if (!claims || !tokens.id_token) throw new LoginFailure('PSC returned no ID token')
  if (!acrSatisfies(claims.acr, psc.acr)) {
    throw new LoginFailure(`authentication level ${String(claims.acr ?? 'none')} is below the required ${psc.acr}`, 403)
  }
  let identity: Identity
  try {
    const userinfo = await oidc.fetchUserInfo(configuration, tokens.access_token, claims.sub)
    identity = identityFromPsc(userinfo, { sub: claims.sub, acr: claims.acr, authMode: claims.authMode })
  } catch (err) {
    throw failureOf(err, 'UserInfo: ')
  }
  return {
    identity,
    idToken: tokens.id_token,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    accessTokenExpiresAt: now + (tokens.expires_in ?? 120) * 1000,
    pscSid: typeof claims.sid === 'string' ? claims.sid : undefined
  }
}

export function logoutUrl(configuration: oidc.Configuration, psc: GatewayConfig['psc'], idToken: string | undefined): string {
  if (!idToken || !configuration.serverMetadata().end_session_endpoint) return psc.postLogoutRedirectUri
  return oidc.buildEndSessionUrl(configuration, { id_token_hint: idToken, post_logout_redirect_uri: psc.postLogoutRedirectUri }).href
}

function isUpstreamFailure(err: unknown): boolean {
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
