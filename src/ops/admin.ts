// The admin listener, on its own port so probes and metrics are never reachable from the public one.
import Fastify, { type FastifyInstance } from 'fastify'

export interface ReadinessCheck {
  name: string
  check(): { ok: boolean; reason?: string }
}

export function buildAdminApp(checks: ReadinessCheck[]): FastifyInstance {
  const admin = Fastify({ logger: false })
  admin.get('/healthz', async () => ({ status: 'ok' }))
  admin.get('/readyz', async (_request, reply) => {
    const results = Object.fromEntries(checks.map((c) => [c.name, c.check()]))
    const ready = Object.values(results).every((r) => r.ok)
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: results })
  })
  return admin
}
