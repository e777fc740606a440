// What makes a session out of PSC's tokens, whichever way the practitioner logged in (the redirect
// login with the card or e-CPS, or a CIBA push): the acr rule, the identity mapping from UserInfo,
// a new session id, the cookie, the audit events and the request's scope. One place, so that both
// ways give exactly the same session.
import type { FastifyReply, FastifyRequest } from 'fastify'
import * as oidc from 'openid-client'
import type { AuditTrail } from '../audit/trail.js'
import type { GatewayConfig } from '../config/types.js'
import { PSC_ERR } from '../errors.js'
import { acrSatisfies } from '../psc/acr.js'
import type { AccountLookup, Identity } from '../psc/identity.js'
import { identityFromPsc } from '../psc/map-user-info.js'
import { sessionCookieOptions } from '../session/cookies.js'
import { sessionReference } from '../session/ids.js'
import type { NewSession, SessionManager } from '../session/manager.js'
import { readRequestSession } from '../session/request-session.js'
import { SessionStoreUnavailable, type SessionRecord } from '../session/store.js'
import { endpointScope } from '../endpoints/endpoint-scope.js'
import { describeOidcError, isUpstreamFailure, LoginFailure, unreachableFailure } from './login-failure.js'

export type LoginMethod = 'redirect' | 'ciba'

type Tokens = oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers

/** PSC's token response → the fields of a session: acr at or above the configured one, identity from UserInfo. */
export async function sessionFieldsFromTokens(
  configuration: oidc.Configuration,
  psc: GatewayConfig['psc'],
  tokens: Tokens,
  now: number,
): Promise<NewSession> {
  const claims = tokens.claims()
  if (!claims || !tokens.id_token)
    throw new LoginFailure(PSC_ERR.LOGIN_NO_ID_TOKEN, 'the token response has no ID token')
  if (!acrSatisfies(claims.acr, psc.acr)) {
    throw new LoginFailure(
      PSC_ERR.LOGIN_ACR_TOO_LOW,
      `authentication level ${String(claims.acr ?? 'none')} is below the required ${psc.acr}`,
      idNatOfClaims(claims),
    )
  }
  // PSC puts authMode in the ID token or, for some means of authentication, only in the access token.
  const authMode = claims.authMode ?? jwtClaim(tokens.access_token, 'authMode')
  let identity: Identity
  try {
    const userinfo = await oidc.fetchUserInfo(configuration, tokens.access_token, claims.sub)
    identity = identityFromPsc(userinfo, { sub: claims.sub, acr: claims.acr, authMode })
  } catch (err) {
    throw (
      unreachableFailure(err, 'UserInfo: ', idNatOfClaims(claims)) ??
      new LoginFailure(
        isUpstreamFailure(err) ? PSC_ERR.LOGIN_PSC_UNREACHABLE : PSC_ERR.LOGIN_USERINFO,
        `UserInfo: ${describeOidcError(err)}`,
        idNatOfClaims(claims),
      )
    )
  }
  return {
    identity,
    idToken: tokens.id_token,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    accessTokenExpiresAt: now + (tokens.expires_in ?? 120) * 1000,
    pscSid: typeof claims.sid === 'string' ? claims.sid : undefined,
  }
}

export interface SessionStartDeps {
  config: GatewayConfig
  sessions: SessionManager
  audit: AuditTrail
  /** finds the local account at login (src/accounts/resolver.ts) */
  accounts?: { resolve(identity: Identity): Promise<AccountLookup> } | undefined
}

/**
 * Ends the browser's previous session (if any), creates the new one, sets its cookie, records the
 * login and session events and the request's scope. The caller then redirects to the page first
 * asked for. Throws LoginFailure (PSC_ERR_LOGIN_STORE_UNAVAILABLE) when the store cannot create it.
 */
export async function startSession(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: SessionStartDeps,
  fields: NewSession,
  loginMethod: LoginMethod,
): Promise<void> {
  const { config, sessions, audit } = deps
  // The local account is looked up once, here, whatever the login method, and kept in the session.
  if (deps.accounts !== undefined)
    fields = { ...fields, identity: { ...fields.identity, account: await deps.accounts.resolve(fields.identity) } }
  const account = fields.identity.account
  let id: string
  let record: SessionRecord
  let superseded: Awaited<ReturnType<SessionManager['create']>>['superseded'] = []
  // The store may fail at any step here; PSC has already said who this is (the audit names them).
  try {
    // A new id at every login: a cookie planted before login is never promoted (no fixation).
    const previous = await readRequestSession(request, config.session.cookieName, sessions)
    if (previous.kind === 'alive' || previous.kind === 'ended') {
      await sessions.end(previous.id)
      audit.record(request, {
        event: 'session',
        outcome: 'ended',
        reason: previous.kind === 'alive' ? 'replaced' : previous.why,
        session: sessionReference(previous.id),
      })
    }
    ;({ id, record, superseded } = await sessions.create({
      ...fields,
      login: { method: loginMethod, client: request.ip },
    }))
  } catch (err) {
    if (err instanceof SessionStoreUnavailable)
      throw new LoginFailure(PSC_ERR.LOGIN_STORE_UNAVAILABLE, err.reason, fields.identity.idNat)
    throw err
  }
  reply.setCookie(
    config.session.cookieName,
    id,
    sessionCookieOptions({ secure: config.secure, maxAgeSeconds: Math.floor(config.session.absoluteTimeoutMs / 1000) }),
  )
  const who = {
    session: sessionReference(id),
    idNat: fields.identity.idNat,
    profession: fields.identity.exercices[0]?.professionCode,
  }
  audit.record(request, {
    event: 'login',
    outcome: 'succeeded',
    ...who,
    acr: fields.identity.acr,
    authMode: fields.identity.authMode,
    loginMethod,
    ...(account !== undefined && { account: account.status === 'found' ? account.login : account.status }),
  })
  audit.record(request, { event: 'session', outcome: 'created', ...who })
  // session.onePerPractitioner: this login ended the practitioner's other sessions
  for (const old of superseded)
    audit.record(request, {
      event: 'session',
      outcome: 'ended',
      reason: 'superseded',
      session: old.ref,
      idNat: old.idNat,
      sessionDurationMs: Math.max(0, record.createdAt - old.createdAt),
    })
  endpointScope(request, 'allow', who)
}

/** The idNat PSC asserted in the ID token: preferred_username, else the end of sub ("f:<uuid>:<idNat>"). */
function idNatOfClaims(claims: oidc.IDToken): string | undefined {
  if (typeof claims.preferred_username === 'string' && claims.preferred_username !== '')
    return claims.preferred_username
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
