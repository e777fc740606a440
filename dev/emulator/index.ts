// A local Pro Santé Connect: oidc-provider shaped like PSC's Keycloak realm (issuer path, endpoint
// paths, wallet discovery document, scope_all, eidas acr values, PSC claims), with a page that lists
// test practitioners instead of asking for a CPS card. For development and tests only.

import { existsSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type Provider from 'oidc-provider'
import { WALLET_DISCOVERY_PATH } from '../../src/psc/environments.js'
import { pscSubFor } from './claims.js'
import { createProvider, INTERACTION_PATH, ISSUER_PATH } from './provider.js'

export { ISSUER_PATH } from './provider.js'
import { loginPage, messagePage } from './pages.js'
import { loadPractitioners, type Practitioner } from './practitioners.js'
import { EmulatorCiba, type EmulatorCibaOptions } from './ciba-backchannel.js'
import { ECPS_PATH, handleEcps } from './ecps-page.js'

export { pscClaimsFor, pscIdTokenClaimsFor, pscSubFor, otherIdsFor } from './claims.js'
export { loadPractitioners, parsePractitioners, PractitionersFileError } from './practitioners.js'
export type { Practitioner, PractitionerExercice, PractitionerStructure } from './practitioners.js'

export interface EmulatorClient {
  clientId: string
  /** for client_secret_basic/post clients; unused by a tls_client_auth client */
  clientSecret: string
  /**
   * makes the client a tls_client_auth one (RFC 8705): the token endpoint accepts it only with a
   * client certificate issued by `tls.clientCa` whose subject is this DN (e.g. "CN=gw,O=Hôpital,C=FR")
   */
  tlsClientAuthSubjectDn?: string
  redirectUris: string[]
  postLogoutRedirectUris: string[]
  backchannelLogoutUri?: string
  /** the dénomination registered with ANS (client_name), shown in the e-CPS notification */
  serviceName?: string
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
  /**
   * serve HTTPS with this certificate and key (PEM) instead of HTTP; with clientCa, client
   * certificates are requested, and only those issued by clientCa authenticate a tls_client_auth
   * client (others get invalid_client). Connections without a certificate are served (a browser).
   */
  tls?: {
    cert: string
    key: string
    /**
     * as PSC: the token, userinfo, revocation, introspection and CIBA endpoints are also served on a
     * second listener (`mtlsPort`, default a free port) that asks for a client certificate, and the
     * discovery document publishes them as RFC 8705 mtls_endpoint_aliases. A tls_client_auth client
     * authenticates only there; the main listener asks for no certificate (browsers).
     */
    clientCa?: string
    mtlsPort?: number
    /**
     * the mTLS listener refuses, in the TLS handshake, a certificate not issued by clientCa (as PSC
     * does; default true); false lets the handshake through and oidc-provider answer invalid_client
     */
    refuseUnknownClientCertificates?: boolean
  }
  /** shift the Date header of every response by this many seconds (clock-skew tests) */
  dateShiftSeconds?: number
  /** CIBA timings (interval, lifetime, slow_down threshold) */
  ciba?: EmulatorCibaOptions
}

export interface RunningEmulator {
  origin: string
  /** the mTLS listener's origin (tls.clientCa given), where mtls_endpoint_aliases point */
  mtlsOrigin?: string
  /** origin + '/auth/realms/esante-wallet' */
  issuer: string
  /** issuer + '/.well-known/wallet-openid-configuration' */
  discoveryUrl: string
  practitioners: Practitioner[]
  /** CIBA: the e-CPS app's pending notifications, answers, and the log of polls */
  ciba: EmulatorCiba & { answerAs(authReqId: string, accept: boolean): Promise<unknown> }
  close(): Promise<void>
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir
    const parent = dirname(dir)
    if (parent === dir)
      throw new Error('psc emulator: cannot find the package root (no package.json above the emulator)')
    dir = parent
  }
}

export function defaultPractitionersFile(): string {
  return join(packageRoot(), 'config', 'practitioners.yaml')
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
    if (typeof c.clientId !== 'string' || c.clientId === '')
      throw new TypeError(`startEmulator: clients[${i}].clientId must be a non-empty string`)
    if (c.tlsClientAuthSubjectDn === undefined && (typeof c.clientSecret !== 'string' || c.clientSecret.length < 8)) {
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
  const ciba = new EmulatorCiba(byIdNat, opts.ciba)
  const shiftMs = (opts.dateShiftSeconds ?? 0) * 1000
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    if (shiftMs !== 0) {
      res.sendDate = false
      res.setHeader('Date', new Date(Date.now() + shiftMs).toUTCString())
    }
    handle(req, res).catch((err: unknown) => {
      log?.error({ err }, 'psc emulator: request failed')
      if (!res.headersSent) send(res, 500, messagePage('Erreur', "L'émulateur PSC n'a pas pu traiter la requête."))
      else res.destroy()
    })
  }
  const server: Server = opts.tls
    ? (createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, listener) as unknown as Server)
    : createServer(listener)
  const mtlsServer: Server | undefined =
    opts.tls?.clientCa !== undefined
      ? (createHttpsServer(
          {
            cert: opts.tls.cert,
            key: opts.tls.key,
            ca: opts.tls.clientCa,
            requestCert: true,
            rejectUnauthorized: opts.tls.refuseUnknownClientCertificates ?? true,
          },
          listener,
        ) as unknown as Server)
      : undefined
  const listen = (srv: Server, port: number) =>
    new Promise<void>((resolve, reject) => {
      srv.once('error', reject)
      srv.listen(port, host, () => {
        srv.off('error', reject)
        resolve()
      })
    })
  await listen(server, opts.port)
  if (mtlsServer !== undefined) await listen(mtlsServer, opts.tls?.mtlsPort ?? 0)
  const { port } = server.address() as AddressInfo
  const reachableHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
  const origin = (opts.publicOrigin ?? `${opts.tls ? 'https' : 'http'}://${reachableHost}:${port}`).replace(/\/+$/, '')
  const issuer = origin + ISSUER_PATH
  const mtlsOrigin =
    mtlsServer === undefined ? undefined : `https://${reachableHost}:${(mtlsServer.address() as AddressInfo).port}`
  const closeAll = () =>
    Promise.all(
      [server, ...(mtlsServer ? [mtlsServer] : [])].map(
        (srv) =>
          new Promise<void>((resolve, reject) => {
            srv.close((err) => (err ? reject(err) : resolve()))
            srv.closeAllConnections()
          }),
      ),
    )

  try {
    provider = createProvider(
      issuer,
      opts,
      bySub,
      ciba,
      mtlsOrigin === undefined ? undefined : mtlsOrigin + ISSUER_PATH,
    )
  } catch (err) {
    await closeAll().catch(() => undefined)
    throw err
  }
  provider.on('server_error', (_ctx: unknown, err: unknown) =>
    log?.error({ err }, 'psc emulator: oidc-provider server error'),
  )
  provider.on('backchannel.error', (_ctx: unknown, err: unknown, client: { clientId?: string } | undefined) =>
    log?.warn({ err, clientId: client?.clientId }, 'psc emulator: back-channel logout delivery failed'),
  )
  const callback = provider.callback()

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const p = provider
    if (p === undefined) return send(res, 503, messagePage('Indisponible', 'Émulateur en cours de démarrage.'))
    const url = new URL(req.url ?? '/', 'http://emulator.invalid')
    let pathname = url.pathname
    if (pathname.startsWith(INTERACTION_PATH))
      return handleInteraction(p, req, res, pathname.slice(INTERACTION_PATH.length))
    if (pathname === ECPS_PATH || pathname.startsWith(`${ECPS_PATH}/`))
      return handleEcps(req, res, url, { provider: p, ciba, practitioners, readForm })
    // PSC's wallet document and the standard one are the same document here.
    if (pathname === ISSUER_PATH + WALLET_DISCOVERY_PATH) pathname = `${ISSUER_PATH}/.well-known/openid-configuration`
    if (pathname.startsWith(`${ISSUER_PATH}/`)) {
      // Mounted like express does it: the provider sees the path below the issuer, and rebuilds
      // its absolute URLs from originalUrl.
      const below = pathname.slice(ISSUER_PATH.length) + url.search
      ;(req as IncomingMessage & { originalUrl?: string }).originalUrl = ISSUER_PATH + below
      req.url = below
      await callback(req, res)
      return
    }
    if (pathname === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
      return send(
        res,
        200,
        messagePage(
          'Pro Santé Connect — émulateur local',
          `Issuer : ${issuer} — application e-CPS simulée : ${origin}${ECPS_PATH}`,
        ),
      )
    }
    send(res, 404, messagePage('Introuvable', "Cette adresse n'existe pas sur l'émulateur PSC."))
  }

  async function handleInteraction(
    p: Provider,
    req: IncomingMessage,
    res: ServerResponse,
    rest: string,
  ): Promise<void> {
    const [uid, action, ...extra] = rest.split('/')
    let details: Awaited<ReturnType<Provider['interactionDetails']>>
    try {
      details = await p.interactionDetails(req, res)
    } catch (err) {
      log?.warn({ err }, 'psc emulator: interaction not found')
      return send(
        res,
        400,
        messagePage(
          'Session expirée',
          "La demande de connexion a expiré ou est inconnue : recommencez depuis l'application.",
        ),
      )
    }
    if (details.uid !== uid || extra.length > 0) {
      return send(
        res,
        400,
        messagePage('Requête invalide', 'Cette demande de connexion ne correspond pas à la session en cours.'),
      )
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
        return send(
          res,
          400,
          messagePage('Professionnel inconnu', `Aucun professionnel de test n'a l'identifiant « ${idNat} ».`),
        )
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
    send(res, 405, messagePage('Méthode non permise', `${req.method ?? ''} n'est pas accepté ici.`))
  }

  return {
    origin,
    ...(mtlsOrigin !== undefined && { mtlsOrigin }),
    issuer,
    discoveryUrl: issuer + WALLET_DISCOVERY_PATH,
    practitioners,
    ciba: Object.assign(ciba, {
      answerAs: (authReqId: string, accept: boolean) => ciba.answer(provider as Provider, authReqId, accept),
    }),
    close: async () => {
      await closeAll()
    },
  }
}
