// Builds the gateway from a configuration: the one place where the rooms are wired together.
// Request flow: rewriteUrl normalises the path once → reserved routes (auth/) or the access gate
// (gate.ts) → proxy (proxy/) → one audit line per decision when the response is done.
import fastifyCookie from '@fastify/cookie'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify'
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { pino, type DestinationStream } from 'pino'
import type { AuditSink } from './audit/events.js'
import { createAuditSink } from './audit/stdout-sink.js'
import { PscClient } from './auth/psc-client.js'
import { loginTransactionCookieName, registerAuthRoutes } from './auth/routes.js'
import type { GatewayConfig } from './config/types.js'
import { createAccessGate } from './gate.js'
import { buildAdminApp } from './ops/admin.js'
import { badRequestProblem, internalErrorProblem, notFoundProblem } from './pages/problems.js'
import { sendProblem } from './pages/respond.js'
import { normalizeRequestTarget } from './policy/path.js'
import { compileRoutes } from './policy/rules.js'
import { registerForwarding } from './proxy/forward.js'
import { SessionManager } from './session/manager.js'
import { MemorySessionStore } from './session/memory-store.js'

export interface GatewayOptions {
  /** where the operational log goes (default stdout) */
  logStream?: DestinationStream
  /** where audit events go (default stdout, marked "log":"audit") */
  audit?: AuditSink
  now?: () => number
}

export interface Gateway {
  app: FastifyInstance
  admin: FastifyInstance | undefined
  psc: PscClient
  sessions: SessionManager
  /** listens on the configured addresses; resolves with the actual URLs */
  listen(): Promise<{ url: string; adminUrl?: string }>
  close(): Promise<void>
}

const kTargetProblem = Symbol('psc.targetProblem')
type RawWithProblem = IncomingMessage & { [kTargetProblem]?: string }

export async function buildGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = pino(
    { level: config.log.level, base: { log: 'app' }, redact: ['req.headers.cookie', 'req.headers.authorization', '*.clientSecret', '*.secrets'] },
    options.logStream ?? pino.destination({ dest: 1, sync: false })
  )
  const audit = options.audit ?? createAuditSink()
  const now = options.now ?? Date.now
  const routeTable = compileRoutes(config.routes)
  const sessions = new SessionManager(new MemorySessionStore(config.session.store.maxSessions), config.session, now)
  const psc = new PscClient(config.psc, logger)

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Requests are recorded once, in the audit trail; the operational log keeps to events.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    return503OnClosing: true,
    // The path is normalised once, here, before routing: what is matched, authorised and
    // forwarded is this one string. A target that cannot be normalised is answered 400 below.
    rewriteUrl(raw) {
      const result = normalizeRequestTarget(raw.url ?? '')
      if (result.ok) return result.path + result.query
      ;(raw as RawWithProblem)[kTargetProblem] = result.reason
      return '/'
    }
  })
  app.decorateRequest('pscAccess', null)
  await app.register(fastifyCookie, { secret: config.session.secrets })

  app.addHook('onRequest', async (request, reply) => {
    const problem = (request.raw as RawWithProblem)[kTargetProblem]
    if (problem !== undefined) {
      request.pscAccess = { decision: 'reject', reason: problem }
      return sendProblem(request, reply, badRequestProblem(problem))
    }
  })

  app.addHook('onResponse', async (request, reply) => {
    const a = request.pscAccess
    if (!a?.decision) return
    const q = request.url.indexOf('?')
    audit.write({
      event: 'access', decision: a.decision, route: a.route, reason: a.reason,
      method: request.method, path: a.decision === 'reject' && a.reason !== 'no matching route' ? '(invalid)' : q === -1 ? request.url : request.url.slice(0, q),
      status: reply.statusCode, durationMs: Math.round(reply.elapsedTime * 100) / 100,
      requestId: request.id, client: request.ip, userAgent: request.headers['user-agent'],
      session: a.session, idNat: a.idNat, profession: a.profession
    })
  })

  app.setNotFoundHandler(async (request, reply) => {
    request.pscAccess = { decision: 'reject', reason: 'no matching route' }
    return sendProblem(request, reply, notFoundProblem())
  })

  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500
    if (status >= 400 && status < 500) {
      request.log.info({ code: error.code, status }, 'client error')
      return sendProblem(request, reply, { ...badRequestProblem(error.message), status })
    }
    // Full details go to the operational log only; the browser gets a reference, never a stack.
    request.log.error({ err: error }, 'unhandled error')
    return sendProblem(request, reply, internalErrorProblem())
  })

  await registerAuthRoutes(app, { config, psc, sessions, audit, now })
  const gate = createAccessGate({ config, routes: () => routeTable, sessions, psc, audit })
  await registerForwarding(app, {
    config,
    gate,
    targetOf: (request) => request.pscAccess?.target,
    gatewayCookies: [config.session.cookieName, loginTransactionCookieName(config.secure)]
  })

  const admin = config.admin.enabled
    ? buildAdminApp([
        { name: 'psc', check: () => (psc.status.ready ? { ok: true } : { ok: false, reason: psc.status.reason }) },
        { name: 'config', check: () => ({ ok: true, reason: `${config.source}: ${routeTable.routes.length} routes` }) }
      ])
    : undefined

  return {
    app,
    admin,
    psc,
    sessions,
    async listen() {
      void psc.start()
      const url = await app.listen({ host: config.listen.host, port: config.listen.port })
      const adminUrl = admin ? await admin.listen({ host: config.admin.host, port: config.admin.port }) : undefined
      return { url, adminUrl }
    },
    async close() {
      psc.close()
      await app.close()
      await admin?.close()
      await sessions.store.close()
    }
  }
}
