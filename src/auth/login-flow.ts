// The OpenID Connect steps with PSC, on openid-client: build the authorization request, finish the
// callback, and build the logout URL. No fastify here, so the steps can be read in one place.
import * as oidc from 'openid-client'
import { PSC_ERR, type CodeDefinition, type PscErrorCode } from '../errors.js'
import type { GatewayConfig } from '../config/types.js'
import { acrSatisfies } from '../psc/acr.js'
import type { Identity } from '../psc/identity.js'
import { identityFromPsc } from '../psc/mapUserInfo.js'
import type { NewSession } from '../session/manager.js'
import type { LoginTransaction } from './transaction.js'

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

/**
 * A login that could not be finished: its code (for the page, the audit and the metrics), the
 * technical detail (log and audit only), and the practitioner's idNat when PSC had already said
 * who they are (a refusal after authentication is about someone).
 */
export class LoginFailure extends Error {
  readonly code: PscErrorCode
  readonly status: number
  constructor(definition: CodeDefinition<PscErrorCode>, readonly detail: string, readonly idNat?: string) {
    super(`${definition.message}: ${detail}`)
    this.code = definition.code
    this.status = definition.status
  }
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
    throw new LoginFailure(grantFailureCode(err), describeOidcError(err))
  }
  const claims = tokens.claims()
  if (!claims || !tokens.id_token) throw new LoginFailure(PSC_ERR.LOGIN_NO_ID_TOKEN, 'the token response has no ID token')
  if (!acrSatisfies(claims.acr, psc.acr)) {
    throw new LoginFailure(PSC_ERR.LOGIN_ACR_TOO_LOW, `authentication level ${String(claims.acr ?? 'none')} is below the required ${psc.acr}`, idNatOfClaims(claims))
  }
  // PSC puts authMode in the ID token or, for some means of authentication, only in the access token.
  const authMode = claims.authMode ?? jwtClaim(tokens.access_token, 'authMode')
  let identity: Identity
  try {
    const userinfo = await oidc.fetchUserInfo(configuration, tokens.access_token, claims.sub)
    identity = identityFromPsc(userinfo, { sub: claims.sub, acr: claims.acr, authMode })
  } catch (err) {
    throw new LoginFailure(isUpstreamFailure(err) ? PSC_ERR.LOGIN_PSC_UNREACHABLE : PSC_ERR.LOGIN_USERINFO, `UserInfo: ${describeOidcError(err)}`, idNatOfClaims(claims))
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

/** What the failure of the code exchange means for the practitioner. */
function grantFailureCode(err: unknown): CodeDefinition<PscErrorCode> {
  if (err instanceof oidc.AuthorizationResponseError) {
    // The practitioner cancelled at PSC, or refused to share their profile.
    return err.error === 'access_denied' || err.error === 'login_required' || err.error === 'consent_required' ? PSC_ERR.LOGIN_CANCELLED : PSC_ERR.LOGIN_PSC_ERROR
  }
  if (err instanceof oidc.ResponseBodyError) return PSC_ERR.LOGIN_PSC_ERROR
  if (isUpstreamFailure(err)) return PSC_ERR.LOGIN_PSC_UNREACHABLE
  // openid-client's own checks of what came back (state, nonce, signatures, issuer, ...).
  return PSC_ERR.LOGIN_PSC_ERROR
}

/** The idNat PSC asserted in the ID token: preferred_username, else the end of sub ("f:<uuid>:<idNat>"). */
function idNatOfClaims(claims: oidc.IDToken): string | undefined {
  if (typeof claims.preferred_username === 'string' && claims.preferred_username !== '') return claims.preferred_username
  const sub = claims.sub
  const colon = sub.lastIndexOf(':')
  return colon === -1 || colon === sub.length - 1 ? undefined : sub.slice(colon + 1)
}

/**
 * One claim of a JWT's payload, without verifying it: the access token came straight from PSC's
 * token endpoint over TLS, in the same exchange as the verified ID token. Undefined for an opaque
 * token or a claim that is not a string.
 */
export function jwtClaim(token: string, claim: string): string | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  try {
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>
    const value = payload[claim]
    return typeof value === 'string' && value !== '' ? value : undefined
  } catch {
    return undefined
  }
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
