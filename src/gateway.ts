// Builds the gateway from a configuration: the one place where the rooms are wired together.
// Request flow: rewriteUrl normalises the path once → reserved routes (auth/) or the access gate
// (gate.ts) → proxy (proxy/) → one audit line per decision when the response is done.
import fastifyCookie from '@fastify/cookie'
import rateLimit from '@fastify/rate-limit'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { randomUUID } from 'node:crypto'
import { pino, type DestinationStream } from 'pino'
import type { AuditSink } from './audit/events.js'
import { createAuditOutput, outputOf, type AuditOutput } from './audit/sinks.js'
import { AUDIT_FINISHED, AuditTrail } from './audit/trail.js'
import { PscClient, PSC_ERR_CLIENT_CERTIFICATE_REFUSED } from './auth/psc-client.js'
import { registerClientCertificateMetric } from './ops/client-certificate-metric.js'
import { loginTransactionCookieName, registerAuthRoutes } from './auth/routes.js'
import { cibaCookieName } from './auth/ciba-routes.js'
import type { GatewayConfig } from './config/types.js'
import { createAccessGate, createDecisionSteps } from './gate.js'
import { registerForwardAuth } from './auth/forward-auth-route.js'
import { registerJwks } from './auth/jwks-route.js'
import { AssertionIssuer } from './proxy/assertion.js'
import { buildAdminApp } from './ops/admin.js'
import { Drain } from './ops/drain.js'
import { lazyChildLogger } from './ops/request-logger.js'
import { createGatewayMetrics, teeAuditSinks, type GatewayMetrics } from './ops/metrics.js'
import { sessionStoreCheck } from './ops/readiness.js'
import { auditLogObserver, auditSessionEnds } from './ops/audit-wiring.js'
import { configHash } from './config/changes.js'
import { answerClientError } from './ops/client-error.js'
import { registerForwarding } from './proxy/forward.js'
import { cookieSecrets } from './session/cookies.js'
import { SessionManager } from './session/manager.js'
import { createSessionStore } from './session/create-store.js'
import { TokenKeeper } from './auth/token-keeper.js'
import { registerBackchannelLogout } from './auth/backchannel-route.js'
import { createAccountResolver } from './accounts/resolver.js'
import { accountDirectoryCheck, registerAccountMetrics } from './ops/account-directory.js'
import { registerRequestHooks, rewriteUrl } from './server/request-hooks.js'
import { close, createRouting, listen, type RunningParts } from './server/lifecycle.js'

export interface GatewayOptions {
  /** where the operational log goes (default stdout) */
  logStream?: DestinationStream
  /** where audit events go (default: the sinks of config.audit); tests inject a capturing sink here */
  audit?: AuditSink
  now?: () => number
  /** default Node process metrics on /metrics (default true) */
  processMetrics?: boolean
}

export interface Gateway {
  app: FastifyInstance
  admin: FastifyInstance | undefined
  psc: PscClient
  sessions: SessionManager
  /** this gateway's Prometheus metrics (own registry), served on the admin listener */
  metrics: GatewayMetrics
  /** the audit outputs: reopen() on SIGUSR2, droppedEvents for metrics */
  audit: AuditOutput
  /**
   * Listens on the configured addresses; resolves with the actual URLs. `on.handle`: a socket
   * already bound (a test's reserved port, or one handed over by a supervisor) instead of listen.port.
   */
  listen(on?: { handle: object }): Promise<{ url: string; adminUrl?: string }>
  /**
   * Swaps in a new configuration's routes, upstreams and headers, atomically: requests in flight
   * finish under the state they started with. Throws (keeping the current state) when the new
   * configuration changes what cannot change without a restart.
   */
  reload(next: GatewayConfig): void
  /** Loads and reloads, reporting the outcome to the log, the audit trail and the metrics. */
  reloadFrom(load: () => GatewayConfig): { ok: true } | { ok: false; error: string }
  /** Stops accepting, lets requests in flight finish for up to `graceMs`, then cuts what is left. */
  close(graceMs?: number): Promise<void>
}

export async function buildGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = pino(
    { level: config.log.level, base: { log: 'app' }, redact: ['req.headers.cookie', 'req.headers.authorization', '*.clientSecret', '*.secrets', '*.acceptedSecrets', '*.hmacKey', '*.bindPassword'] },
    options.logStream ?? pino.destination({ dest: 1, sync: false })
  )
  const now = options.now ?? Date.now
  const sessions = new SessionManager(createSessionStore(config.session.store), config.session, now)
  const auditOutput = options.audit !== undefined
    ? outputOf(options.audit)
    : createAuditOutput(config.audit, auditLogObserver(logger))
  const metrics = createGatewayMetrics({ activeSessions: () => sessions.store.size(), auditDropped: () => auditOutput.droppedEvents, auditWriteFailures: () => auditOutput.writeFailures, auditWritable: () => auditOutput.health().ok, processMetrics: options.processMetrics })
  const audit = new AuditTrail(teeAuditSinks(auditOutput, metrics.auditSink), { includeQuery: config.audit.includeQuery, reservedPrefix: config.prefix, now })
  audit.setConfigHash(configHash(config))
  void audit.emit({ event: 'config', outcome: 'loaded', source: config.source, routes: config.routes.length, configHash: configHash(config) })
  auditSessionEnds(sessions, audit)
  let countRenewal: ((outcome: 'reloaded' | 'refused') => void) | undefined
  const psc = new PscClient(config.psc, logger, metrics.psc, process.env, (renewal) => {
    const c = renewal.outcome === 'renewed' ? renewal.certificate : renewal.current
    const clientCertificate = {
      file: c.source, subject: c.info.subject, issuer: c.info.issuer, serialNumber: c.info.serialNumber, expires: new Date(c.info.validTo).toISOString(),
      ...(renewal.outcome === 'renewed' && { previousSerialNumber: renewal.previous.info.serialNumber })
    }
    const outcome = renewal.outcome === 'renewed' ? 'reloaded' : 'refused'
    countRenewal?.(outcome)
    void audit.emit({ event: 'config', outcome, source: config.source, clientCertificate, ...(renewal.outcome === 'refused' && { reason: renewal.error }) })
  })
  countRenewal = registerClientCertificateMetric(metrics.registry, () => psc.certificate, now)
  // Local accounts (issue 17): looked up at login and with the session's refresh, never per request.
  let observeAccount: (outcome: string) => void = () => {}
  const accounts = config.accounts === undefined
    ? undefined
    : createAccountResolver(config.accounts, { now, log: logger, observe: (o) => observeAccount(o) })
  if (accounts !== undefined) observeAccount = registerAccountMetrics(metrics.registry, accounts)
  const routing = createRouting(config, { logger, audit, metrics })

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Requests are recorded once, in the audit trail; the operational log keeps to events.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger,
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // While draining, requests still come through our hooks, which answer the 503 page (French for
    // a browser, JSON for a script) with Connection: close, instead of fastify's English JSON.
    return503OnClosing: false,
    // Requests Node's parser refuses (malformed, headers too large) get a complete answer that says
    // Connection: close, rather than a socket cut mid-way (ECONNRESET on the client).
    clientErrorHandler: answerClientError,
    // Oversized heads (431), slow heads and slow bodies (408, then the socket is closed) are cut off
    // by Node's parser before any of our code runs. Node checks the timeouts every
    // connectionsCheckingInterval, so it follows the smallest of them.
    requestTimeout: config.limits.requestTimeoutMs,
    http: {
      maxHeaderSize: config.limits.maxHeaderSize,
      headersTimeout: config.limits.headersTimeoutMs,
      connectionsCheckingInterval: Math.max(100, Math.min(5000, Math.floor(config.limits.headersTimeoutMs / 4)))
    },
    rewriteUrl
  })
  app.decorateRequest('pscScope', null)
  app.decorateRequest(AUDIT_FINISHED as unknown as string, false)
  // Cookies are parsed when read (session/request-cookies.ts), not by a hook on every request.
  await app.register(fastifyCookie, { secret: cookieSecrets(config.session), hook: false })

  const drain = new Drain()
  if (Object.values(config.upstreams).some((u) => u.websocket)) drain.trackWebSockets(app.server)
  registerRequestHooks(app, { config, audit, auditOutput, drain })

  // Only routes that opt in (login, callback) are limited; proxied routes never are. Keyed on
  // request.ip: the client address as seen through trustedProxies only.
  await app.register(rateLimit, { global: false })
  await registerAuthRoutes(app, { config, psc, sessions, audit, now, ...(accounts !== undefined && { accounts }) })
  if (config.psc.backchannelLogout) await registerBackchannelLogout(app, { config, psc, store: sessions.store, audit })
  const tokens = new TokenKeeper(psc, sessions, config.psc.revalidateEveryMs, now, accounts)
  const gateDeps = { config, state: routing.current, sessions, tokens, psc, audit, ...(accounts !== undefined && { accountContact: accounts.contact }) }
  const gate = createAccessGate(gateDeps)
  const assertions = await AssertionIssuer.create(config, now)
  registerJwks(app, config.prefix, assertions)
  await registerForwardAuth(app, { config, steps: createDecisionSteps(gateDeps), assertions })
  await registerForwarding(app, {
    assertions,
    config,
    gate,
    targetOf: (request) => request.pscScope?.target,
    gatewayCookies: [config.session.cookieName, loginTransactionCookieName(config.secure), cibaCookieName(config.secure)],
    upstreamObserver: metrics.upstream
  })

  const admin = config.admin.enabled
    ? buildAdminApp([
        // A client certificate PSC refuses is shared by every replica: reported, not a reason to take
        // them all out of the Service (public routes are still served, logins get their own page).
        { name: 'psc', check: () => (psc.status.ready ? { ok: true } : { ok: false, reason: psc.status.reason, ...(psc.status.code === PSC_ERR_CLIENT_CERTIFICATE_REFUSED && { reportOnly: true }) }) },
        { name: 'config', check: () => ({ ok: true, reason: `${routing.current().config.source}: ${routing.current().routes.routes.length} routes` }) },
        { name: 'sessions', check: () => sessionStoreCheck(sessions.store) },
        { name: 'audit', check: () => auditOutput.health() },
        { name: 'lifecycle', check: () => (drain.closing ? { ok: false, reason: 'shutting down' } : { ok: true }) },
        ...(accounts !== undefined ? [{ name: 'accounts', check: () => accountDirectoryCheck(accounts) }] : [])
      ], { metrics: metrics.registry })
    : undefined

  const parts: RunningParts = { config, app, admin, psc, sessions, accounts, audit, auditOutput, drain }
  return {
    app,
    admin,
    psc,
    sessions,
    metrics,
    audit: auditOutput,
    listen: (on) => listen(parts, on),
    reload: routing.reload,
    reloadFrom: routing.reloadFrom,
    close: (graceMs = config.lifecycle.shutdownGraceMs) => close(parts, graceMs)
  }
}
