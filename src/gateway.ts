// Builds the gateway from a configuration: the one place where the rooms are wired together.
// Request flow: rewriteUrl normalises the path once → reserved routes (endpoints/, oidc/) or the access gate
// (gate.ts) → proxy (proxy/) → one audit line per decision when the response is done.
// The parts live in server/: the fastify app, the per-request hooks, the error outcome, the lifecycle.
import rateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import type { DestinationStream } from 'pino'
import type { AuditSink } from './audit/events.js'
import { createAuditOutput, outputOf, type AuditOutput } from './audit/sinks.js'
import { auditRetentionFor } from './audit/retention.js'
import { AuditTrail } from './audit/trail.js'
import type { PscClient } from './oidc/psc-client.js'
import { loginTransactionCookieName, registerAuthRoutes } from './endpoints/gateway-endpoints.js'
import { cibaCookieName } from './oidc/ciba/browser-routes.js'
import type { GatewayConfig } from './config/types.js'
import { createAccessGate, createDecisionSteps } from './gate.js'
import { registerForwardAuth } from './endpoints/forward-auth-route.js'
import { registerJwks } from './endpoints/jwks-route.js'
import { AssertionIssuer } from './proxy/identity-assertion.js'
import { buildAdminApp, type ReadinessCheck } from './ops/admin.js'
import { Drain } from './ops/drain.js'
import { createGatewayMetrics, teeAuditSinks, type GatewayMetrics } from './ops/metrics.js'
import { auditLogObserver, auditSessionEnds, auditSessionsLostAtShutdown } from './ops/audit-wiring.js'
import { configHash } from './config/changes.js'
import { registerForwarding, type Forwarding } from './proxy/forward.js'
import { SessionManager } from './session/manager.js'
import { createSessionStore } from './session/create-store.js'
import type { SessionStore } from './session/store.js'
import { TokenKeeper } from './oidc/token-keeper.js'
import { registerBackchannelLogout } from './oidc/backchannel-route.js'
import { createFastifyApp, createLogger } from './server/fastify-app.js'
import { registerRequestHooks } from './server/request-hooks.js'
import {
  close,
  createRouting,
  listen,
  type ListenOn,
  type Routing,
  type RunningParts,
} from './server/gateway-lifecycle.js'
import { createAccounts, createPscClient } from './server/psc-and-accounts.js'
import { heldChecks, readinessChecks } from './server/readiness-checks.js'
import { registerBrandingRoutes } from './endpoints/branding-routes.js'
import { registerCharter } from './endpoints/charter-wiring.js'

export interface GatewayOptions {
  /** where the operational log goes (default stdout) */
  logStream?: DestinationStream
  /** where audit events go (default: the sinks of config.audit); tests inject a capturing sink here */
  audit?: AuditSink
  now?: () => number
  /** default Node process metrics on /metrics (default true) */
  processMetrics?: boolean
  /** the session store (default: the one config.session.store names); a cluster worker's reaches the primary */
  sessionStore?: SessionStore
  /** where the rate limits count (default: in this process); shared by the workers of a cluster */
  rateLimitStore?: FastifyRateLimitStoreCtor
  /**
   * This gateway is worker N of `serve`'s cluster: the primary owns the admin listener, the audit
   * retention, the sweep of expired sessions and the config events; the worker only serves requests.
   */
  worker?: number
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
  /** what /readyz checks (a cluster's primary asks its workers for theirs) */
  readiness: ReadinessCheck[]
  /**
   * Listens on the configured addresses; resolves with the actual URLs. `on.handle`: a socket
   * already bound (a test's reserved port, or one handed over by a supervisor) instead of listen.port.
   */
  listen(on?: ListenOn): Promise<{ url: string; adminUrl?: string }>
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
  const logger = createLogger(config, options.logStream, options.worker)
  const now = options.now ?? Date.now
  const worker = options.worker
  const sessions = new SessionManager(
    options.sessionStore ?? createSessionStore(config.session.store),
    config.session,
    now,
  )
  const auditOutput =
    options.audit !== undefined ? outputOf(options.audit) : createAuditOutput(config.audit, auditLogObserver(logger))
  const metrics = createGatewayMetrics({
    activeSessions: () => sessions.store.size(),
    auditDropped: () => auditOutput.droppedEvents,
    auditWriteFailures: () => auditOutput.writeFailures,
    auditWritable: () => auditOutput.health().ok,
    processMetrics: options.processMetrics,
  })
  const audit = new AuditTrail(teeAuditSinks(auditOutput, metrics.auditSink), {
    includeQuery: config.audit.includeQuery,
    reservedPrefix: config.prefix,
    now,
  })
  audit.setConfigHash(configHash(config))
  if (worker === undefined) {
    auditConfigLoaded(audit, config)
    auditSessionEnds(sessions, audit)
  }
  const retention = worker === undefined ? retentionOf(config, audit, auditOutput, logger, now) : undefined
  const psc = createPscClient({ config, logger, metrics, audit, now })
  const accounts = createAccounts({ config, logger, metrics, now })
  // Forwarding is registered below, once the app exists; a reload cannot come before that.
  let forwarding: Forwarding | undefined
  const routing = createRouting(config, {
    logger,
    audit,
    metrics,
    onReload: (next) => forwarding?.upstreamsChanged(next.upstreams),
  })

  const app = await createFastifyApp(config, logger)
  const drain = new Drain()
  if (Object.values(config.upstreams).some((u) => u.websocket)) drain.trackWebSockets(app.server)
  registerRequestHooks(app, { config, audit, auditOutput, drain })

  // Only routes that opt in (login, callback) are limited; proxied routes never are. Keyed on
  // request.ip: the client address as seen through trustedProxies only.
  await app.register(rateLimit, {
    global: false,
    ...(options.rateLimitStore !== undefined && { store: options.rateLimitStore }),
  })
  await registerAuthRoutes(app, { config, psc, sessions, audit, now, ...(accounts !== undefined && { accounts }) })
  if (config.psc.backchannelLogout) await registerBackchannelLogout(app, { config, psc, store: sessions.store, audit })
  const tokens = new TokenKeeper(psc, sessions, config.psc.revalidateEveryMs, now, accounts)
  const charter = registerCharter(app, { config, sessions, audit, now })
  registerBrandingRoutes(app, config)
  const gateDeps = {
    config,
    state: routing.current,
    sessions,
    tokens,
    psc,
    audit,
    ...(accounts !== undefined && { accountContact: accounts.contact }),
    ...(charter !== undefined && { charter }),
  }
  const gate = createAccessGate(gateDeps)
  const assertions = await AssertionIssuer.create(config, now)
  registerJwks(app, config.prefix, assertions)
  await registerForwardAuth(app, { config, steps: createDecisionSteps(gateDeps), assertions })
  forwarding = await registerForwarding(app, {
    assertions,
    config,
    gate,
    targetOf: (request) => request.pscScope?.target,
    gatewayCookies: [
      config.session.cookieName,
      loginTransactionCookieName(config.secure),
      cibaCookieName(config.secure),
    ],
    upstreamObserver: metrics.upstream,
  })

  const readiness = readinessChecks({ psc, routing, sessions, auditOutput, drain, accounts })
  const admin =
    config.admin.enabled && worker === undefined
      ? buildAdminApp(readiness, { metrics: metrics.registry, sessionApi: { sessions, audit, token: config.admin } })
      : undefined

  const parts: RunningParts = { config, app, admin, psc, sessions, accounts, audit, auditOutput, drain }
  return {
    app,
    admin,
    psc,
    sessions,
    metrics,
    audit: auditOutput,
    readiness,
    listen: (on) => listen(parts, on),
    reload: routing.reload,
    reloadFrom: routing.reloadFrom,
    close: (graceMs = config.lifecycle.shutdownGraceMs) => {
      retention?.stop()
      return close(parts, graceMs)
    },
  }
}

function auditConfigLoaded(audit: AuditTrail, config: GatewayConfig): void {
  void audit.emit({
    event: 'config',
    outcome: 'loaded',
    source: config.source,
    routes: config.routes.length,
    configHash: configHash(config),
  })
}

/** Rotated audit files past audit.retention are removed now, every hour, and after each SIGUSR2. */
function retentionOf(
  config: GatewayConfig,
  audit: AuditTrail,
  auditOutput: AuditOutput,
  logger: ReturnType<typeof createLogger>,
  now: () => number,
): ReturnType<typeof auditRetentionFor> {
  const retention = auditRetentionFor(
    config.audit,
    (event) => audit.write(event as unknown as Parameters<AuditTrail['write']>[0]),
    (err) =>
      logger.error(
        { err: { message: err.message } },
        'audit retention: an old audit file could not be removed; tried again within the hour',
      ),
    now,
  )
  if (retention !== undefined) {
    const reopen = auditOutput.reopen
    auditOutput.reopen = () => {
      reopen()
      void retention.poke()
    }
  }
  return retention
}

/** The parts of `serve`'s cluster primary: what is held once for every worker. */
export interface ClusterPrimary {
  logger: ReturnType<typeof createLogger>
  /** the one audit output every worker's events are written to, in the order they arrive */
  auditOutput: AuditOutput
  /** the primary's own events (config, worker, admin) */
  audit: AuditTrail
  /** the session store as the primary sees it: the admin session API, the sweep of expired sessions */
  sessions: SessionManager
  /** the primary's own metrics (audit outputs, sessions, reloads); the workers' come from them */
  metrics: GatewayMetrics
  /** the configuration in force: a reload is validated, compared and audited here, once */
  routing: Routing
  /** set `closing` at shutdown: /readyz says so */
  drain: Drain
  /** what the primary checks itself (config, sessions, audit, lifecycle) */
  readiness: ReadinessCheck[]
  /** Audits the sessions a memory store loses, then closes the store and the audit outputs; what could not be written. */
  close(): Promise<number>
}

export interface ClusterPrimaryOptions {
  logStream?: DestinationStream
  now?: () => number
  /** the store the primary holds (default: the one config.session.store names) */
  sessionStore?: SessionStore
}

/** Builds what `serve`'s primary holds for its workers: the audit output and trail, the sessions, the routing state. */
export function buildClusterPrimary(config: GatewayConfig, options: ClusterPrimaryOptions = {}): ClusterPrimary {
  const logger = createLogger(config, options.logStream)
  const now = options.now ?? Date.now
  const sessions = new SessionManager(
    options.sessionStore ?? createSessionStore(config.session.store),
    config.session,
    now,
  )
  const auditOutput = createAuditOutput(config.audit, auditLogObserver(logger))
  const metrics = createGatewayMetrics({
    activeSessions: () => sessions.store.size(),
    auditDropped: () => auditOutput.droppedEvents,
    auditWriteFailures: () => auditOutput.writeFailures,
    auditWritable: () => auditOutput.health().ok,
  })
  const audit = new AuditTrail(auditOutput, {
    includeQuery: config.audit.includeQuery,
    reservedPrefix: config.prefix,
    now,
  })
  audit.setConfigHash(configHash(config))
  auditConfigLoaded(audit, config)
  auditSessionEnds(sessions, audit)
  const retention = retentionOf(config, audit, auditOutput, logger, now)
  const routing = createRouting(config, { logger, audit, metrics })
  const drain = new Drain()
  return {
    logger,
    auditOutput,
    audit,
    sessions,
    metrics,
    routing,
    drain,
    readiness: heldChecks({ routing, sessions, auditOutput, drain }),
    async close() {
      retention?.stop()
      auditSessionsLostAtShutdown(sessions, audit)
      await sessions.store.close()
      return auditOutput.close(config.audit.shutdownWaitMs)
    },
  }
}
