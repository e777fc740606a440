// The gateway over time: the routing state a reload swaps, listening, and the drain-then-close at shutdown.
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { AccountResolver } from '../accounts/resolver.js'
import type { AuditOutput } from '../audit/sinks.js'
import type { AuditTrail } from '../audit/trail.js'
import type { PscClient } from '../oidc/psc-client.js'
import { configHash, describeConfigChanges } from '../config/changes.js'
import { describeReloadBlockers } from '../config/reload.js'
import type { GatewayConfig } from '../config/types.js'
import type { RoutingState } from '../gate.js'
import { auditSessionsLostAtShutdown } from '../ops/audit-wiring.js'
import type { Drain } from '../ops/drain.js'
import type { GatewayMetrics } from '../ops/metrics.js'
import { compileRoutes } from '../policy/rules.js'
import { compileForwardingRules } from '../proxy/forwarding-rules.js'
import type { SessionManager } from '../session/manager.js'
import { listenSecure, type SecureListening } from './tls-listening.js'

export interface Routing {
  /** the state a request starts with; it keeps it to the end, whatever reload does meanwhile */
  current(): RoutingState
  reload(next: GatewayConfig): void
  reloadFrom(load: () => GatewayConfig): { ok: true } | { ok: false; error: string }
}

function compileState(config: GatewayConfig): RoutingState {
  return { config, routes: compileRoutes(config.routes, config.structures), forwarding: compileForwardingRules(config) }
}

/** The routes, upstreams and headers in force, swapped whole by a reload. */
export function createRouting(
  config: GatewayConfig,
  {
    logger,
    audit,
    metrics,
    onReload,
  }: {
    logger: Logger
    audit: AuditTrail
    metrics: GatewayMetrics
    /** told of the configuration a reload put in force (forwarding: the upstreams' connection pools) */
    onReload?: (next: GatewayConfig) => void
  },
): Routing {
  let state = compileState(config)
  function reload(next: GatewayConfig): void {
    // Compared with the configuration the process started with: that is what its listeners and stores were built from.
    const blockers = describeReloadBlockers(config, next)
    if (blockers.length > 0) throw new Error(`these settings need a restart: ${blockers.join(', ')}`)
    state = compileState(next)
    onReload?.(next)
    audit.setConfigHash(configHash(next))
    logger.level = next.log.level
  }
  function reloadFrom(load: () => GatewayConfig): { ok: true } | { ok: false; error: string } {
    try {
      const next = load()
      const changes = describeConfigChanges(state.config, next)
      reload(next)
      logger.info({ source: next.source, routes: next.routes.length }, 'configuration reloaded')
      metrics.configReloads.inc({ outcome: 'ok' })
      void audit.emit({
        event: 'config',
        outcome: 'reloaded',
        source: next.source,
        routes: next.routes.length,
        configHash: configHash(next),
        changes,
      })
      return { ok: true }
    } catch (err) {
      // ConfigError messages name file, line and key, and never a secret value.
      const error = err instanceof Error ? err.message : String(err)
      logger.error(
        { source: state.config.source, error },
        'configuration reload refused; the previous configuration stays in force',
      )
      metrics.configReloads.inc({ outcome: 'refused' })
      void audit.emit({ event: 'config', outcome: 'refused', source: state.config.source, reason: error })
      return { ok: false, error }
    }
  }
  return { current: () => state, reload, reloadFrom }
}

/** What listens, and what holds state to flush or release at shutdown. */
export interface RunningParts {
  config: GatewayConfig
  app: FastifyInstance
  admin: FastifyInstance | undefined
  psc: PscClient
  sessions: SessionManager
  accounts: AccountResolver | undefined
  audit: AuditTrail
  auditOutput: AuditOutput
  drain: Drain
  /** set by listen when listen.tls is on: the certificate watch and the HTTP redirect listener */
  secure?: SecureListening
}

/**
 * `handle`: a socket already bound. `reusePort`: one worker of a cluster binding the port itself
 * (SO_REUSEPORT, the kernel spreads connections; exclusive, so that the cluster's primary is not asked).
 */
export type ListenOn = { handle: object } | { reusePort: true }

export async function listen(
  parts: RunningParts,
  on?: ListenOn,
): Promise<{ url: string; adminUrl?: string; redirectUrl?: string }> {
  const { config, app, admin, psc } = parts
  void psc.start()
  const url = await app.listen(
    on === undefined
      ? { host: config.listen.host, port: config.listen.port }
      : 'handle' in on
        ? ({ host: config.listen.host, ...on } as never)
        : ({ host: config.listen.host, port: config.listen.port, reusePort: true, exclusive: true } as never),
  )
  const adminUrl = admin ? await admin.listen({ host: config.admin.host, port: config.admin.port }) : undefined
  if (config.listen.tls !== undefined) parts.secure = await listenSecure(parts, config.listen.tls)
  return { url, adminUrl, ...(parts.secure?.redirectUrl !== undefined && { redirectUrl: parts.secure.redirectUrl }) }
}

export async function close(
  { config, app, admin, psc, sessions, accounts, audit, auditOutput, drain, secure }: RunningParts,
  graceMs: number,
): Promise<void> {
  psc.close()
  await secure?.close()
  // lifecycle.shutdownDelay: the listener stays open answering 503 while the load balancer catches up.
  await drain.begin(config.lifecycle.shutdownDelayMs)
  const deadline = Date.now() + graceMs
  // Open WebSockets keep working for the grace period (or until their clients close them).
  await drain.webSocketsClosed(deadline)
  // fastify's close stops listening, closes idle keep-alive connections and waits for requests
  // in flight; past the grace period, whatever is left is cut.
  const cutoff = setTimeout(() => app.server.closeAllConnections(), Math.max(0, deadline - Date.now()))
  cutoff.unref()
  try {
    await app.close()
  } finally {
    clearTimeout(cutoff)
  }
  await admin?.close()
  // No request can make or end a session any more: those the store loses now go to the trail.
  auditSessionsLostAtShutdown(sessions, audit)
  await sessions.store.close()
  await accounts?.close()
  // Everything the requests wrote reaches the audit file before the process ends.
  await auditOutput.close(config.audit.shutdownWaitMs)
}
