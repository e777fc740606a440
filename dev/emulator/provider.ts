// The oidc-provider configuration that makes the emulator look like PSC's Keycloak realm: endpoint
// paths, scope_all, eidas acr values, PSC's claims, token lifetimes, logout. The HTTP server and the
// practitioner page are in index.ts.
import { generateKeyPairSync, randomBytes, type JsonWebKey } from 'node:crypto'
import Provider from 'oidc-provider'
import { EIDAS_LEVELS } from '../../src/psc/acr.js'
import { PSC_SCOPE_ALL_CLAIMS, pscClaimsFor, pscIdTokenClaimsFor } from './claims.js'
import type { EmulatorOptions } from './index.js'
import { autoLogoutPage, loggedOutPage, messagePage } from './pages.js'
import type { Practitioner } from './practitioners.js'
import { mtlsFeature } from './mtls.js'
import { CIBA_PATH, type EmulatorCiba } from './ciba-backchannel.js'

export const ISSUER_PATH = '/auth/realms/esante-wallet'
export const INTERACTION_PATH = `${ISSUER_PATH}/interaction/`

/** PSC's published lifetimes: refresh token 30 min, SSO session 4 h. */
const OIDC_PATH = '/protocol/openid-connect'
const SUPPORTED_SCOPES = ['openid', 'scope_all', 'offline_access']
const REFRESH_TOKEN_TTL = 30 * 60
const SESSION_TTL = 4 * 60 * 60

/**
 * PSC signs with RS256. An RSA key takes up to half a second of CPU to generate, and almost every
 * integration test starts an emulator, some several: emulators in one process share the key material (made on
 * first use), each with its own key id: a token of one emulator names a key id that another's
 * JWKS does not list, so it is still refused there (and its issuer differs).
 */
let processRsaKey: JsonWebKey | undefined

function signingKey(): Record<string, unknown> {
  processRsaKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' })
  return { ...processRsaKey, kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' }
}

export function createProvider(
  issuer: string,
  opts: EmulatorOptions,
  bySub: Map<string, Practitioner>,
  ciba: EmulatorCiba,
  mtlsIssuer?: string,
): Provider {
  const accessTokenTtl = opts.accessTokenTtlSeconds ?? 120
  if (!Number.isInteger(accessTokenTtl) || accessTokenTtl <= 0) {
    throw new TypeError('startEmulator: accessTokenTtlSeconds must be a positive integer')
  }
  const provider = new Provider(issuer, {
    clients: opts.clients.map((c) => ({
      client_id: c.clientId,
      ...(c.tlsClientAuthSubjectDn === undefined
        ? { client_secret: c.clientSecret, token_endpoint_auth_method: 'client_secret_basic' }
        : { token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: c.tlsClientAuthSubjectDn }),
      redirect_uris: c.redirectUris,
      post_logout_redirect_uris: c.postLogoutRedirectUris,
      grant_types: ['authorization_code', 'refresh_token', 'urn:openid:params:grant-type:ciba'],
      backchannel_token_delivery_mode: 'poll',
      ...(c.serviceName ? { client_name: c.serviceName } : {}),
      response_types: ['code'],
      // for "basic" clients oidc-provider accepts client_secret_post as well
      require_auth_time: true,
      ...(c.backchannelLogoutUri
        ? { backchannel_logout_uri: c.backchannelLogoutUri, backchannel_logout_session_required: true }
        : {}),
    })),
    clientAuthMethods: [
      'client_secret_basic',
      'client_secret_post',
      ...(opts.tls?.clientCa !== undefined ? ['tls_client_auth'] : []),
    ],
    async findAccount(ctx: any, sub: string) {
      const found = bySub.get(sub)
      if (found === undefined) return undefined
      // ID token, UserInfo and refreshed tokens of a CIBA grant carry the means approved with
      const authMode = ciba.authModeOfGrant(ctx?.oidc?.entities?.Grant?.jti)
      const practitioner = authMode === undefined ? found : { ...found, authMode }
      return {
        accountId: sub,
        async claims(use: string) {
          return use === 'id_token'
            ? { sub, ...pscIdTokenClaimsFor(practitioner) }
            : { sub, ...pscClaimsFor(practitioner) }
        },
      }
    },
    claims: {
      openid: ['sub'],
      scope_all: PSC_SCOPE_ALL_CLAIMS,
    },
    scopes: SUPPORTED_SCOPES,
    acrValues: [...EIDAS_LEVELS],
    // PSC puts preferred_username, authMode and otherIds in the ID token even in the code flow
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    pkce: { required: () => true },
    routes: {
      authorization: `${OIDC_PATH}/auth`,
      token: `${OIDC_PATH}/token`,
      userinfo: `${OIDC_PATH}/userinfo`,
      end_session: `${OIDC_PATH}/logout`,
      jwks: `${OIDC_PATH}/certs`,
      revocation: `${OIDC_PATH}/revoke`,
      introspection: `${OIDC_PATH}/token/introspect`,
      backchannel_authentication: CIBA_PATH,
    },
    // PSC's CIBA parameter (CARD or MOBILE)
    extraParams: ['channel'],
    interactions: {
      url: (_ctx: unknown, interaction: { uid: string }) => `${INTERACTION_PATH}${interaction.uid}`,
    },
    // PSC shows no consent screen: whatever supported scope or claim the client asks for is granted.
    async loadExistingGrant(ctx: any) {
      const clientId: string = ctx.oidc.client.clientId
      const accountId: string | undefined = ctx.oidc.session.accountId
      const grantId: string | undefined = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session.grantIdFor(clientId)
      let grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined
      if (accountId === undefined) return grant
      if (grant === undefined || grant.accountId !== accountId)
        grant = new ctx.oidc.provider.Grant({ accountId, clientId })
      const scopes = [...(ctx.oidc.requestParamScopes as Set<string>)].filter((s) => SUPPORTED_SCOPES.includes(s))
      grant.addOIDCScope(scopes.join(' '))
      const claims = [...(ctx.oidc.requestParamClaims as Set<string>)]
      if (claims.length > 0) grant.addOIDCClaims(claims)
      await grant.save()
      return grant
    },
    // PSC issues a refresh token to every authorization_code (and CIBA) client, without offline_access
    issueRefreshToken: async (
      _ctx: unknown,
      client: { grantTypeAllowed(t: string): boolean },
      source: { kind?: string },
    ) =>
      client.grantTypeAllowed('refresh_token') &&
      ['AuthorizationCode', 'RefreshToken', 'BackchannelAuthenticationRequest'].includes(String(source.kind)),
    ttl: {
      AccessToken: accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: REFRESH_TOKEN_TTL,
      Interaction: 15 * 60,
      Session: SESSION_TTL,
      Grant: SESSION_TTL,
      BackchannelAuthenticationRequest: ciba.expiresInSeconds,
    },
    features: {
      devInteractions: { enabled: false },
      // not offered by PSC
      pushedAuthorizationRequests: { enabled: false },
      dPoP: { enabled: false },
      introspection: { enabled: true },
      ...(opts.tls?.clientCa !== undefined && { mTLS: mtlsFeature }),
      revocation: { enabled: true },
      userinfo: { enabled: true },
      backchannelLogout: { enabled: true },
      ciba: ciba.feature(),
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx: { body: string }, form: string) => {
          ctx.body = autoLogoutPage(form)
        },
        postLogoutSuccessSource: async (ctx: { body: string }) => {
          ctx.body = loggedOutPage()
        },
      },
    },
    // oidc-provider refuses outgoing requests to loopback/private addresses (SSRF guard), but the
    // emulator's only outgoing requests are back-channel logouts to relying parties its operator
    // registered, usually on 127.0.0.1: drop the guarded dispatcher.
    fetch: (url: string | URL, options: RequestInit & { dispatcher?: unknown }) => {
      const { dispatcher: _guarded, ...rest } = options
      return globalThis.fetch(url, rest)
    },
    jwks: { keys: [signingKey()] },
    cookies: {
      keys: [randomBytes(32).toString('hex')],
    },
    discovery: {
      // as in PSC's document
      claims_parameter_supported: false,
      service_documentation: 'https://industriels.esante.gouv.fr/produits-et-services/pro-sante-connect',
      // RFC 8705: where a client authenticating with its certificate must go (another port here,
      // another host at PSC)
      ...(mtlsIssuer !== undefined && {
        mtls_endpoint_aliases: {
          token_endpoint: `${mtlsIssuer}${OIDC_PATH}/token`,
          userinfo_endpoint: `${mtlsIssuer}${OIDC_PATH}/userinfo`,
          revocation_endpoint: `${mtlsIssuer}${OIDC_PATH}/revoke`,
          introspection_endpoint: `${mtlsIssuer}${OIDC_PATH}/token/introspect`,
          backchannel_authentication_endpoint: `${mtlsIssuer}${CIBA_PATH}`,
        },
      }),
    },
    renderError: async (ctx: { type: string; body: string }, out: Record<string, unknown>) => {
      ctx.type = 'html'
      ctx.body = messagePage(
        'Pro Santé Connect — erreur',
        `${String(out.error ?? 'error')}: ${String(out.error_description ?? '')}`,
      )
    },
  })
  provider.proxy = false
  provider.use(ciba.middleware())
  // PSC's ID tokens always carry sid; oidc-provider adds it only for back-channel logout clients.
  const clientModel = (provider as unknown as { Client: { prototype: { includeSid(): boolean } } }).Client
  clientModel.prototype.includeSid = () => true
  return provider
}
