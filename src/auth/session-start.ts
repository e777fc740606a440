// What makes a session out of PSC's tokens, whichever way the practitioner logged in (redirect with
// the card or e-CPS, or a CIBA push): the acr rule, the identity mapping from UserInfo, a new session
// id, the cookie, and the audit events. One place, so both ways give exactly the same session.
import type { FastifyReply, FastifyRequest } from 'fastify'
import * as oidc from 'openid-client'
import type { AuditTrail } from '../audit/trail.js'
import type { GatewayConfig } from '../config/types.js'
import { acrSatisfies } from '../psc/acr.js'
import type { Identity } from '../psc/identity.js'
import { identityFromPsc } from '../psc/mapUserInfo.js'
import { sessionCookieOptions } from '../session/cookies.js'
import { sessionReference } from '../session/ids.js'
import type { NewSession, SessionManager } from '../session/manager.js'
import { readRequestSession } from '../session/request-session.js'
import { describeOidcError, isUpstreamFailure, LoginFailure } from './login-failure.js'

export type LoginMethod = 'redirect' | 'ciba'

type Tokens = oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers

/** PSC's token response → the fields of a session: acr at or above the configured one, identity from UserInfo. */
export async function sessionFieldsFromTokens(
  configuration: oidc.Configuration,
  psc: GatewayConfig['psc'],
  tokens: Tokens,
  now: number
): Promise<NewSession> {
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
    throw new LoginFailure(`UserInfo: ${describeOidcError(err)}`, isUpstreamFailure(err) ? 502 : 400)
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

export interface SessionStartDeps {
  config: GatewayConfig
  sessions: SessionManager
  audit: AuditTrail
}

/**
 * Ends the browser's previous session (if any), creates the new one, sets its cookie and records
 * the login and session events. The caller redirects to the page first asked for.
 */
export async function startSession(request: FastifyRequest, reply: FastifyReply, deps: SessionStartDeps, fields: NewSession, loginMethod: LoginMethod): Promise<string> {
  const { config, sessions, audit } = deps
  // A new id at every login: a cookie planted before login is never promoted (no fixation).
  const previous = await readRequestSession(request, config.session.cookieName, sessions)
  if (previous.kind === 'alive' || previous.kind === 'ended') {
    await sessions.end(previous.id)
    audit.record(request, { event: 'session', outcome: 'ended', reason: previous.kind === 'alive' ? 'replaced' : previous.why, session: sessionReference(previous.id) })
  }
  const { id } = await sessions.create(fields)
  reply.setCookie(config.session.cookieName, id, sessionCookieOptions({ secure: config.secure, maxAgeSeconds: Math.floor(config.session.absoluteTimeoutMs / 1000) }))
  const who = { session: sessionReference(id), idNat: fields.identity.idNat, profession: fields.identity.exercices[0]?.professionCode }
  audit.record(request, { event: 'login', outcome: 'succeeded', ...who, acr: fields.identity.acr, authMode: fields.identity.authMode, loginMethod })
  audit.record(request, { event: 'session', outcome: 'created', ...who })
  return id
}
