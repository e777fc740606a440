// OpenID Connect Back-Channel Logout 1.0: PSC tells us, server to server, that a practitioner's PSC
// session ended; we end every local session of that sid (or sub) on every replica (the store is
// shared). The logout token is a JWT signed by PSC, checked as the specification says.
import { createRemoteJWKSet, customFetch, jwtVerify, type JWTPayload } from 'jose'
import type { GatewayConfig } from '../config/types.js'
import type { SessionStore } from '../session/store.js'
import type { PscClient } from './psc-client.js'

const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout'
const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']
/** How long a logout token is accepted after its iat, and how long its jti is remembered. */
const MAX_TOKEN_AGE_S = 600

export class LogoutTokenError extends Error {
  override name = 'LogoutTokenError'
}

export interface BackchannelLogoutResult {
  sid?: string
  sub?: string
  ended: number
}

export class BackchannelLogout {
  #jwks: { uri: string; keys: ReturnType<typeof createRemoteJWKSet> } | undefined

  constructor(
    private readonly psc: PscClient,
    private readonly settings: GatewayConfig['psc'],
    private readonly store: SessionStore,
  ) {}

  async handle(logoutToken: unknown): Promise<BackchannelLogoutResult> {
    if (typeof logoutToken !== 'string' || logoutToken === '' || logoutToken.length > 16_384) {
      throw new LogoutTokenError('missing or oversized logout_token')
    }
    const payload = await this.#verify(logoutToken)
    const events = payload.events
    if (
      typeof events !== 'object' ||
      events === null ||
      typeof (events as Record<string, unknown>)[LOGOUT_EVENT] !== 'object'
    ) {
      throw new LogoutTokenError('the events claim does not contain the back-channel logout event')
    }
    if (payload.nonce !== undefined) throw new LogoutTokenError('a logout token must not contain a nonce')
    const sid = typeof payload.sid === 'string' && payload.sid !== '' ? payload.sid : undefined
    const sub = typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub : undefined
    if (!sid && !sub) throw new LogoutTokenError('the logout token names neither sid nor sub')
    if (typeof payload.jti !== 'string' || payload.jti === '') throw new LogoutTokenError('the logout token has no jti')
    if (!(await this.store.rememberOnce(`bcl:${payload.jti}`, MAX_TOKEN_AGE_S * 1000))) {
      throw new LogoutTokenError('this logout token was already used (jti replayed)')
    }
    // With a sid, exactly that PSC session; with only a sub, every session of the practitioner.
    const ended = await this.store.deleteWhere(sid ? { sid } : { sub })
    return { sid, sub, ended }
  }

  async #verify(token: string): Promise<JWTPayload> {
    const configuration = this.psc.configuration
    if (!configuration) throw new Error('PSC discovery is not loaded')
    const jwksUri = configuration.serverMetadata().jwks_uri
    if (!jwksUri) throw new Error('PSC publishes no jwks_uri')
    if (this.#jwks?.uri !== jwksUri)
      this.#jwks = {
        uri: jwksUri,
        keys: createRemoteJWKSet(new URL(jwksUri), {
          timeoutDuration: this.settings.httpTimeoutMs,
          // through the outbound proxy, with the CA bundle, like every call to PSC
          [customFetch]: (url: string, init: RequestInit) => this.psc.http.fetch(url, init),
        }),
      }
    try {
      const { payload } = await jwtVerify(token, this.#jwks.keys, {
        issuer: this.settings.issuer,
        audience: this.settings.clientId,
        algorithms: ASYMMETRIC_ALGS,
        maxTokenAge: MAX_TOKEN_AGE_S,
        clockTolerance: 30,
        requiredClaims: ['iat', 'jti'],
      })
      return payload
    } catch (err) {
      const code = (err as { code?: unknown }).code
      if (typeof code === 'string' && isTokenFault(code))
        throw new LogoutTokenError(`invalid logout token: ${(err as Error).message}`)
      throw err
    }
  }
}

/** jose error codes that blame the token; the others (JWKS unreachable or broken) blame PSC. */
function isTokenFault(code: string): boolean {
  return (
    code.startsWith('ERR_JWT_') ||
    code.startsWith('ERR_JWS_') ||
    code === 'ERR_JOSE_ALG_NOT_ALLOWED' ||
    code === 'ERR_JOSE_NOT_SUPPORTED' ||
    code === 'ERR_JWKS_NO_MATCHING_KEY' ||
    code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS'
  )
}
