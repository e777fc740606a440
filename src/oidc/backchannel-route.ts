// POST <prefix>/backchannel-logout: PSC's server calls it, never a browser.
import type { FastifyInstance } from 'fastify'
import type { AuditTrail } from '../audit/trail.js'
import type { GatewayConfig } from '../config/types.js'
import type { SessionStore } from '../session/store.js'
import { BackchannelLogout, LogoutTokenError } from './backchannel.js'
import type { PscClient } from './psc-client.js'
import { endpointScope } from '../endpoints/endpoint-scope.js'
import { PSC_ERR } from '../errors.js'

export async function registerBackchannelLogout(
  app: FastifyInstance,
  opts: { config: GatewayConfig; psc: PscClient; store: SessionStore; audit: AuditTrail },
): Promise<void> {
  const receiver = new BackchannelLogout(opts.psc, opts.config.psc, opts.store)
  // Form bodies are parsed in this scope only: elsewhere they are streamed to the upstream untouched.
  await app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 32_768 },
      (_req, body, done) => {
        done(null, new URLSearchParams(body as string))
      },
    )
    scope.post(`${opts.config.prefix}/backchannel-logout`, async (request, reply) => {
      reply.header('cache-control', 'no-store')
      const form = request.body instanceof URLSearchParams ? request.body : undefined
      try {
        const result = await receiver.handle(form?.get('logout_token') ?? undefined)
        endpointScope(request, 'allow')
        opts.audit.record(request, { event: 'logout', cause: 'backchannel', sessionsEnded: result.ended })
        request.log.info({ ended: result.ended }, 'back-channel logout')
        return reply.code(200).send()
      } catch (err) {
        if (err instanceof LogoutTokenError) {
          request.log.warn({ reason: err.message }, 'back-channel logout refused')
          endpointScope(request, 'reject', {
            reason: PSC_ERR.BAD_REQUEST.code,
            detail: `logout token refused: ${err.message}`,
          })
          return reply.code(400).send({ error: 'invalid_request', error_description: err.message })
        }
        // PSC unreachable (keys not fetched) or the store down: PSC may retry later.
        request.log.error({ err: { message: (err as Error).message } }, 'back-channel logout failed')
        endpointScope(request, 'reject', {
          reason: PSC_ERR.PSC_UNAVAILABLE.code,
          detail: `back-channel logout failed: ${(err as Error).message}`,
        })
        return reply.code(503).send({ error: 'temporarily_unavailable' })
      }
    })
  })
}
