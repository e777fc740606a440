// The admin listener, on its own port so probes and metrics are never reachable from the public one.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { Gauge, type Registry } from 'prom-client'
import { PAGE_HEADERS, renderPage } from '../pages/html.js'
import { pageLanguage } from '../pages/language.js'
import { wantsJson } from '../pages/respond.js'
import { registerSessionApi, type SessionApiDeps } from './admin-sessions.js'

export interface CheckResult {
  ok: boolean
  reason?: string
  /** a failure that is reported but does not make the pod unready (readiness.ts says which and why) */
  reportOnly?: boolean
}

export interface ReadinessCheck {
  name: string
  check(): CheckResult | Promise<CheckResult>
}

export interface AdminOptions {
  /** served at /metrics in the Prometheus text format */
  metrics?: Registry
  /** a check slower than this counts as failed (default 2 s: probes time out soon after) */
  checkTimeoutMs?: number
  /** the security team's session API (/sessions), behind admin.tokenFile */
  sessionApi?: SessionApiDeps
}

export function buildAdminApp(checks: ReadinessCheck[], options: AdminOptions = {}): FastifyInstance {
  const admin = Fastify({ logger: false })
  const timeoutMs = options.checkTimeoutMs ?? 2000
  admin.get('/healthz', async () => ({ status: 'ok' }))
  admin.get('/readyz', async (_request, reply) => {
    const results = Object.fromEntries(
      await Promise.all(checks.map(async (c) => [c.name, await runCheck(c, timeoutMs)] as const)),
    )
    const ready = Object.values(results).every((r) => r.ok || r.reportOnly === true)
    const degraded = Object.entries(results)
      .filter(([, r]) => !r.ok)
      .map(([name]) => name)
    const body = {
      status: ready ? 'ready' : 'not ready',
      ...(ready && degraded.length > 0 ? { degraded } : {}),
      checks: results,
    }
    return reply
      .code(ready ? 200 : 503)
      .header('cache-control', 'no-store')
      .send(body)
  })
  const registry = options.metrics
  if (registry) {
    // The same checks as a metric, so that alerts see what /readyz reports (including the
    // report-only ones that never take the pod out).
    new Gauge({
      name: 'psc_gateway_readiness_check_ok',
      help: 'Readiness checks at scrape time: 1 passing, 0 failing, by check (psc, config, sessions, lifecycle, ...)',
      labelNames: ['check'] as const,
      registers: [registry],
      async collect() {
        const results = await Promise.all(checks.map(async (c) => [c.name, await runCheck(c, timeoutMs)] as const))
        for (const [name, r] of results) this.set({ check: name }, r.ok ? 1 : 0)
      },
    })
    admin.get('/metrics', async (_request, reply) => {
      const text = await registry.metrics()
      return reply.header('content-type', registry.contentType).header('cache-control', 'no-store').send(text)
    })
  }
  if (options.sessionApi) registerSessionApi(admin, options.sessionApi)
  const endpoints = [
    '/healthz',
    '/readyz',
    ...(registry ? ['/metrics'] : []),
    ...(options.sessionApi ? ['/sessions'] : []),
  ]
  admin.setNotFoundHandler((request, reply) => notFound(request, reply, endpoints))
  return admin
}

/**
 * An address the admin port does not serve: what it does serve, instead of fastify's English JSON.
 * Probes and scrapers read JSON (or plain text); a person with a browser gets a page in French
 * (English by Accept-Language).
 */
function notFound(request: FastifyRequest, reply: FastifyReply, endpoints: string[]): FastifyReply {
  const path = request.url.split('?')[0] ?? ''
  const lang = pageLanguage(request.headers['accept-language'])
  const message =
    lang === 'fr'
      ? `Adresse inconnue sur le port d'administration : ${path}. Adresses servies : ${endpoints.join(', ')}.`
      : `Unknown address on the admin port: ${path}. Addresses served: ${endpoints.join(', ')}.`
  reply.code(404).header('cache-control', 'no-store')
  const accept = request.headers.accept ?? ''
  if (wantsJson(request) || !accept.includes('text/html')) {
    return reply.header('content-language', lang).send({ error: 'not_found', message, endpoints })
  }
  const title = lang === 'fr' ? 'Adresse inconnue' : 'Unknown address'
  return reply
    .headers(PAGE_HEADERS)
    .header('content-language', lang)
    .send(renderPage({ lang, title, paragraphs: [message], links: endpoints.map((e) => ({ href: e, label: e })) }))
}

/** A check run with a deadline: a thrown error or no answer within timeoutMs is a failure. */
export async function runCheck(c: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined
  try {
    const timeout = new Promise<CheckResult>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, reason: `no answer within ${timeoutMs} ms` }), timeoutMs)
    })
    return await Promise.race([Promise.resolve().then(() => c.check()), timeout])
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) }
  } finally {
    clearTimeout(timer)
  }
}
