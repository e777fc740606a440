// The OpenID Connect steps with PSC, on openid-client: build the authorization request, finish the
// callback, and build the logout URL. No fastify here, so the steps can be read in one place.
import * as oidc from 'openid-client'
import { PSC_ERR, type CodeDefinition, type PscErrorCode } from '../errors.js'
import type { GatewayConfig } from '../config/types.js'
import type { NewSession } from '../session/manager.js'
import { describeOidcError, isUpstreamFailure, LoginFailure, unreachableFailure } from './login-failure.js'
import { sessionFieldsFromTokens } from './session-start.js'
import type { LoginTransaction } from './transaction.js'

export async function startLogin(
  configuration: oidc.Configuration,
  psc: GatewayConfig['psc'],
  returnTo: string,
  expiresAt: number,
): Promise<{ url: URL; transaction: LoginTransaction }> {
  const verifier = oidc.randomPKCECodeVerifier()
  const transaction: LoginTransaction = {
    state: oidc.randomState(),
    nonce: oidc.randomNonce(),
    verifier,
    returnTo,
    expiresAt,
  }
  const url = oidc.buildAuthorizationUrl(configuration, {
    redirect_uri: psc.redirectUri,
    response_type: 'code',
    scope: psc.scope,
    acr_values: psc.acr,
    state: transaction.state,
    nonce: transaction.nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  })
  return { url, transaction }
}

export { describeOidcError, LoginFailure } from './login-failure.js'
export { jwtClaim } from './session-start.js'

export async function finishLogin(
  configuration: oidc.Configuration,
  psc: GatewayConfig['psc'],
  callbackUrl: URL,
  transaction: LoginTransaction,
  now: number,
): Promise<NewSession> {
  let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>
  try {
    tokens = await oidc.authorizationCodeGrant(configuration, callbackUrl, {
      pkceCodeVerifier: transaction.verifier,
      expectedState: transaction.state,
      expectedNonce: transaction.nonce,
      idTokenExpected: true,
    })
  } catch (err) {
    throw unreachableFailure(err) ?? new LoginFailure(grantFailureCode(err), describeOidcError(err))
  }
  return sessionFieldsFromTokens(configuration, psc, tokens, now)
}

export function logoutUrl(
  configuration: oidc.Configuration,
  psc: GatewayConfig['psc'],
  idToken: string | undefined,
): string {
  if (!idToken || !configuration.serverMetadata().end_session_endpoint) return psc.postLogoutRedirectUri
  return oidc.buildEndSessionUrl(configuration, {
    id_token_hint: idToken,
    post_logout_redirect_uri: psc.postLogoutRedirectUri,
  }).href
}

/** What the failure of the code exchange means for the practitioner. */
function grantFailureCode(err: unknown): CodeDefinition<PscErrorCode> {
  if (err instanceof oidc.AuthorizationResponseError) {
    // The practitioner cancelled at PSC, or refused to share their profile.
    return err.error === 'access_denied' || err.error === 'login_required' || err.error === 'consent_required'
      ? PSC_ERR.LOGIN_CANCELLED
      : PSC_ERR.LOGIN_PSC_ERROR
  }
  if (err instanceof oidc.ResponseBodyError) return PSC_ERR.LOGIN_PSC_ERROR
  if (isUpstreamFailure(err)) return PSC_ERR.LOGIN_PSC_UNREACHABLE
  // openid-client's own checks of what came back (state, nonce, signatures, issuer, ...).
  return PSC_ERR.LOGIN_PSC_ERROR
}
