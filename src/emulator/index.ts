// A local Pro Santé Connect: oidc-provider shaped like PSC's Keycloak realm (issuer path, endpoint
// paths, wallet discovery document, scope_all, eidas acr values, PSC claims), with a page that lists
// test practitioners instead of asking for a CPS card. For development and tests only.

import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Provider from 'oidc-provider'
import { EIDAS_LEVELS } from '../psc/acr.js'
import { WALLET_DISCOVERY_PATH } from '../psc/environments.js'
import { PSC_SCOPE_ALL_CLAIMS, pscClaimsFor, pscIdTokenClaimsFor, pscSubFor } from './claims.js'
import { autoLogoutPage, loggedOutPage, loginPage, messagePage } from './pages.js'
import { loadPractitioners, type Practitioner } from './practitioners.js'

export { pscClaimsFor, pscIdTokenClaimsFor, pscSubFor, otherIdsFor } from './claims.js'
export { loadPractitioners, parsePractitioners, PractitionersFileError } from './practitioners.js'
export type { Practitioner, PractitionerExercice, PractitionerStructure } from './practitioners.js'

export interface EmulatorClient {
  clientId: string
  clientSecret: string
  redirectUris: string[]
  postLogoutRedirectUris: string[]
  backchannelLogoutUri?: string
}

/** The subset of pino the emulator uses. */
export interface EmulatorLogger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export interface EmulatorOptions {
  /** interface to listen on; default 127.0.0.1 */
  host?: string
  /** 0 = a random free port */
  port: number
  /**
   * origin the emulator is reached at, when it differs from http://<host>:<port> (e.g. in Docker);
   * default http://<host>:<port> (127.0.0.1 when host is 0.0.0.0 or ::)
   */
  publicOrigin?: string
  /** default: config/practitioners.yaml of this package */
  practitionersFile?: string
  clients: EmulatorClient[]
  /** default 120, like PSC */
  accessTokenTtlSeconds?: number
  logger?: EmulatorLogger
}

export interface RunningEmulator {
  origin: string
  /** origin + '/auth/realms/esante-wallet' */
  issuer: string
  /** issuer + '/.well-known/wallet-openid-configuration' */
  discoveryUrl: string
  practitioners: Practitioner[]
  close(): Promise<void>
}

export const ISSUER_PATH = '/auth/realms/esante-wallet'
const OIDC_PATH = '/protocol/openid-connect'
const INTERACTION_PATH = `${ISSUER_PATH}/interaction/`
const SUPPORTED_SCOPES = ['openid', 'scope_all', 'offline_access']

/** PSC's published lifetimes: refresh token 30 min, SSO session 4 h. */
const REFRESH_TOKEN_TTL = 30 * 60
const SESSION_TTL = 4 * 60 * 60

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir
    const parent = dirname(dir)
    if (parent === dir) throw new Error('psc emulator: cannot find the package root (no package.json above the emulator)')
    dir = parent
  }
}

export function defaultPractitionersFile(): string {
  return join(packageRoot(), 'config', 'practitioners.yaml')
}

function signingKey(): Record<string, unknown> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' }
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > 16 * 1024) throw new Error('request body too large')
    chunks.push(chunk)
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}

function send(res: ServerResponse, status: number, html: string): void {
  res.statusCode = status
  res.setHeader('Content-Type', 'text/html; charset=utf-8')
  res.setHeader('Cache-Control', 'no-store')
  res.end(html)
}

function validateClients(clients: EmulatorClient[]): void {
  if (!Array.isArray(clients) || clients.length === 0) {
    throw new TypeError('startEmulator: options.clients must list at least one client')
  }
  for (const [i, c] of clients.entries()) {
    if (typeof c.clientId !== 'string' || c.clientId === '') throw new TypeError(`startEmulator: clients[${i}].clientId must be a non-empty string`)
    if (typeof c.clientSecret !== 'string' || c.clientSecret.length < 8) {
      throw new TypeError(`startEmulator: clients[${i}].clientSecret must be a string of at least 8 characters`)
    }
    if (!Array.isArray(c.redirectUris) || c.redirectUris.length === 0) {
      throw new TypeError(`startEmulator: clients[${i}].redirectUris must list at least one URI`)
    }
  }
}

export async function startEmulator(opts: EmulatorOptions): Promise<RunningEmulator> {
  validateClients(opts.clients)
  const practitionersFile = opts.practitionersFile ?? defaultPractitionersFile()
  const practitioners = await loadPractitioners(practitionersFile)
  const bySub = new Map(practitioners.map((p) => [pscSubFor(p), p]))
  const byIdNat = new Map(practitioners.map((p) => [p.idNat, p]))
  const log = opts.logger
  const host = opts.host ?? '127.0.0.1'

  let provider: Provider | undefined
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log?.error({ err }, 'psc emulator: request failed')
      if (!res.headersSent) send(res, 500, messagePage('Erreur', "L'émulateur PSC n'a pas pu traiter la requête."))
      else res.destroy()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  const reachableHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
  const origin = (opts.publicOrigin ?? `http://${reachableHost}:${port}`).replace(/\/+$/, '')
  const issuer = origin + ISSUER_PATH

  try {
    provider = createProvider(issuer, opts, bySub)
  } catch (err) {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    throw err
  }
  provider.on('server_error', (_ctx: unknown, err: unknown) => log?.error({ err }, 'psc emulator: oidc-provider server error'))
  provider.on('backchannel.error', (_ctx: unknown, err: unknown, client: { clientId?: string } | undefined) =>
    log?.warn({ err, clientId: client?.clientId }, 'psc emulator: back-channel logout delivery failed'),
  )
  const callback = provider.callback()

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const p = provider
    if (p === undefined) return send(res, 503, messagePage('Indisponible', 'Émulateur en cours de démarrage.'))
    const url = new URL(req.url ?? '/', 'http://emulator.invalid')
    let pathname = url.pathname
    if (pathname.startsWith(INTERACTION_PATH)) return handleInteraction(p, req, res, pathname.slice(INTERACTION_PATH.length))
    // PSC's wallet document and the standard one are the same document here.
    if (pathname === ISSUER_PATH + WALLET_DISCOVERY_PATH) pathname = `${ISSUER_PATH}/.well-known/openid-configuration`
    if (pathname.startsWith(ISSUER_PATH + '/')) {
      // Mounted like express does it: the provider sees the path below the issuer, and rebuilds
      // its absolute URLs from originalUrl.
      const below = pathname.slice(ISSUER_PATH.length) + url.search
      ;(req as IncomingMessage & { originalUrl?: string }).originalUrl = ISSUER_PATH + below
      req.url = below
      await callback(req, res)
      return
    }
    if (pathname === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
      return send(res, 200, messagePage('Pro Santé Connect — émulateur local', `Issuer : ${issuer}`))
    }
    send(res, 404, messagePage('Introuvable', 'Cette adresse n’existe pas sur l’émulateur PSC.'))
  }

  async function handleInteraction(p: Provider, req: IncomingMessage, res: ServerResponse, rest: string): Promise<void> {
    const [uid, action, ...extra] = rest.split('/')
    let details
    try {
      details = await p.interactionDetails(req, res)
    } catch (err) {
      log?.warn({ err }, 'psc emulator: interaction not found')
      return send(res, 400, messagePage('Session expirée', 'La demande de connexion a expiré ou est inconnue : recommencez depuis l’application.'))
    }
    if (details.uid !== uid || extra.length > 0) {
      return send(res, 400, messagePage('Requête invalide', 'Cette demande de connexion ne correspond pas à la session en cours.'))
    }
    if (details.prompt.name === 'consent') {
      // PSC has no consent page: the grant is completed by loadExistingGrant; just resume.
      return p.interactionFinished(req, res, { consent: {} }, { mergeWithLastSubmission: true })
    }
    if (action === undefined && req.method === 'GET') {
      const clientId = typeof details.params.client_id === 'string' ? details.params.client_id : ''
      return send(res, 200, loginPage({ action: `${INTERACTION_PATH}${uid}/login`, clientId, practitioners }))
    }
    if (action === 'login' && req.method === 'POST') {
      const form = await readForm(req)
      const idNat = form.get('practitioner') ?? ''
      const practitioner = byIdNat.get(idNat)
      if (practitioner === undefined) {
        return send(res, 400, messagePage('Professionnel inconnu', `Aucun professionnel de test n’a l’identifiant « ${idNat} ».`))
      }
      log?.info({ idNat, clientId: details.params.client_id }, 'psc emulator: practitioner logged in')
      return p.interactionFinished(
        req,
        res,
        { login: { accountId: pscSubFor(practitioner), acr: practitioner.acr, remember: true } },
        { mergeWithLastSubmission: false },
      )
    }
    res.setHeader('Allow', action === 'login' ? 'POST' : 'GET')
    send(res, 405, messagePage('Méthode non permise', `${req.method ?? ''} n’est pas accepté ici.`))
  }

  return {
    origin,
    issuer,
    discoveryUrl: issuer + WALLET_DISCOVERY_PATH,
    practitioners,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      }),
  }
}

function createProvider(issuer: string, opts: EmulatorOptions, bySub: Map<string, Practitioner>): Provider {
  const accessTokenTtl = opts.accessTokenTtlSeconds ?? 120
  if (!Number.isInteger(accessTokenTtl) || accessTokenTtl <= 0) {
    throw new TypeError('startEmulator: accessTokenTtlSeconds must be a positive integer')
  }
  const provider = new Provider(issuer, {
    clients: opts.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: c.redirectUris,
      post_logout_redirect_uris: c.postLogoutRedirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      // the method registered is "basic", but oidc-provider accepts client_secret_post as well
      token_endpoint_auth_method: 'client_secret_basic',
      require_auth_time: true,
      ...(c.backchannelLogoutUri ? { backchannel_logout_uri: c.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
    })),
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    async findAccount(_ctx: unknown, sub: string) {
      const practitioner = bySub.get(sub)
      if (practitioner === undefined) return undefined
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
    },
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
      if (grant === undefined || grant.accountId !== accountId) grant = new ctx.oidc.provider.Grant({ accountId, clientId })
      const scopes = [...(ctx.oidc.requestParamScopes as Set<string>)].filter((s) => SUPPORTED_SCOPES.includes(s))
      grant.addOIDCScope(scopes.join(' '))
      const claims = [...(ctx.oidc.requestParamClaims as Set<string>)]
      if (claims.length > 0) grant.addOIDCClaims(claims)
      await grant.save()
      return grant
    },
    // PSC issues a refresh token to every authorization_code client, without offline_access
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }, source: { kind?: string }) =>
      client.grantTypeAllowed('refresh_token') && (source.kind === 'AuthorizationCode' || source.kind === 'RefreshToken'),
    ttl: {
      AccessToken: accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: REFRESH_TOKEN_TTL,
      Interaction: 15 * 60,
      Session: SESSION_TTL,
      Grant: SESSION_TTL,
    },
    features: {
      devInteractions: { enabled: false },
      // not offered by PSC
      pushedAuthorizationRequests: { enabled: false },
      dPoP: { enabled: false },
      introspection: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      backchannelLogout: { enabled: true },
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
  // PSC's ID tokens always carry sid; oidc-provider adds it only for back-channel logout clients.
  const clientModel = (provider as unknown as { Client: { prototype: { includeSid(): boolean } } }).Client
  clientModel.prototype.includeSid = () => true
  return provider
}
