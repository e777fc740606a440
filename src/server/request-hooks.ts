// What every request goes through around the routes: the target check, the drain, the audit wait, one access event, and the pages for errors and unknown paths.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AuditOutput } from '../audit/sinks.js'
import type { AccessFacts, AuditTrail } from '../audit/trail.js'
import type { GatewayConfig } from '../config/types.js'
import { PSC_ERR, type PscErrorCode } from '../errors.js'
import { admitWhileAuditable } from '../ops/audit-wiring.js'
import type { Drain } from '../ops/drain.js'
import { HSTS_VALUE } from '../pages/html.js'
import { sendCode } from '../pages/respond.js'
import { normalizeRequestTarget } from '../policy/path.js'
import { setScope } from '../scope.js'
import { hstsHeader } from './tls-options.js'
import { errorOutcome } from './error-outcome.js'

const kTargetProblem = Symbol('psc.targetProblem')
/** Why the request target was refused before routing: its code and the technical detail. */
type RawWithProblem = IncomingMessage & { [kTargetProblem]?: { code: PscErrorCode; detail: string } }
const kReply = Symbol('psc.reply')
type ResponseWithReply = ServerResponse & { [kReply]?: FastifyReply }

/**
 * fastify's rewriteUrl: the path is normalised once, before routing, so that what is matched,
 * authorised and forwarded is this one string. A target that cannot be normalised is marked here
 * and answered 400 by the first hook.
 */
export function rewriteUrl(raw: IncomingMessage): string {
  // Two Host headers: Node keeps the first, another hop may read the last (RFC 9112: 400).
  if (hostHeaderCount(raw.rawHeaders) > 1) {
    ;(raw as RawWithProblem)[kTargetProblem] = {
      code: PSC_ERR.DUPLICATE_HOST.code,
      detail: 'more than one Host header',
    }
    return '/'
  }
  const result = normalizeRequestTarget(raw.url ?? '')
  if (result.ok) return result.path + result.query
  ;(raw as RawWithProblem)[kTargetProblem] = { code: PSC_ERR.INVALID_TARGET.code, detail: result.reason }
  return '/'
}

export interface RequestHooksDeps {
  config: GatewayConfig
  audit: AuditTrail
  auditOutput: AuditOutput
  drain: Drain
}

// The per-request hooks below are callback-style, not async: no promise per request for hooks
// that almost never wait.
export function registerRequestHooks(
  app: FastifyInstance,
  { config, audit, auditOutput, drain }: RequestHooksDeps,
): void {
  // Audit: exactly one access event per request (with the login/logout/session events the request
  // caused), when the response is done, or when the client went away before. In block mode a full
  // audit queue makes new requests wait here for room: the traffic slows to the disk's pace.
  // One listener function for every response (no closure per request); it finds its reply here.
  function auditAbortedResponse(this: ResponseWithReply) {
    const reply = this[kReply]
    if (reply === undefined || this.writableFinished) return
    const request = reply.request
    // Gone before any decision (waiting for the audit output, for the session store): nothing was
    // sent, and it is not the gateway's error; the status is nginx's "client closed request".
    if (request.pscScope === null) {
      void audit.finish(request, {
        status: PSC_ERR.CLIENT_GONE.status,
        durationMs: reply.elapsedTime,
        aborted: true,
        access: {
          decision: 'reject',
          reason: PSC_ERR.CLIENT_GONE.code,
          detail: 'the client closed the connection before the gateway decided',
        },
      })
      return
    }
    void audit.finish(request, {
      status: reply.statusCode,
      durationMs: reply.elapsedTime,
      aborted: true,
      access: accessFacts(request, reply.statusCode),
    })
  }
  // One hook for what every request goes through first (one hook call per request, not three).
  // listen.tls.hsts decides when the gateway serves HTTPS itself; behind a proxy, any https publicUrl gets it.
  const tls = config.listen.tls
  const hsts = tls !== undefined ? hstsHeader(tls) : config.secure ? HSTS_VALUE : undefined
  app.addHook('onRequest', (request, reply, done) => {
    ;(reply.raw as ResponseWithReply)[kReply] = reply
    reply.raw.on('close', auditAbortedResponse)
    if (hsts !== undefined) reply.header('strict-transport-security', hsts)
    if (drain.closing) {
      setScope(request, { decision: 'reject', reason: PSC_ERR.SHUTTING_DOWN.code })
      reply.header('connection', 'close')
      sendCode(request, reply, PSC_ERR.SHUTTING_DOWN.code, { retryHref: request.url })
      return
    }
    const problem = (request.raw as RawWithProblem)[kTargetProblem]
    if (problem !== undefined) {
      setScope(request, { decision: 'reject', reason: problem.code, detail: problem.detail, invalidPath: true })
      // the target was rewritten to "/" (it could not be read): the home page is still the way out
      sendCode(request, reply, problem.code, { homeHref: '/' })
      return
    }
    admitWhileAuditable(auditOutput, config.audit.writeWaitMs, request, reply, done)
  })
  app.addHook('onResponse', (request, reply, done) => {
    const wait = audit.finish(request, {
      status: reply.statusCode,
      durationMs: reply.elapsedTime,
      access: accessFacts(request, reply.statusCode),
    })
    if (wait === undefined) done()
    else wait.then(() => done(), done)
  })

  app.setNotFoundHandler(async (request, reply) => {
    if (request.pscScope === null) setScope(request, { decision: 'reject', reason: PSC_ERR.NO_ROUTE.code })
    return sendCode(request, reply, PSC_ERR.NO_ROUTE.code)
  })

  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const { code, detail, context, log, closeConnection } = errorOutcome(error, {
      retryAfter: reply.getHeader('retry-after'),
      bodyLimit: app.initialConfig.bodyLimit ?? 1048576,
    })
    // Full details go to the operational log only; the browser gets a reference, never a stack.
    if (log === 'unhandled') request.log.error({ err: error }, 'unhandled error')
    // Something the gateway depends on (the session store) failed: operators watch warnings.
    else if (log === 'dependency') request.log.warn({ code, reason: detail }, 'dependency unavailable')
    else request.log.info({ code, fastifyCode: error.code, status: error.statusCode }, 'client error')
    if (closeConnection) reply.header('connection', 'close')
    if (request.pscScope === null) setScope(request, { decision: 'reject', reason: code, detail })
    return sendCode(request, reply, code, context)
  })
}

function accessFacts(request: FastifyRequest, status: number): AccessFacts {
  const scope = request.pscScope
  // The scope has every fact the trail reads: handed over as it is, no copy per request.
  if (scope !== null) return scope
  // Every answer writes a scope first; one that did not is a bug, recorded as such, not guessed.
  request.log.error({ status, url: request.url }, 'request answered without an access decision')
  return { decision: 'reject', reason: PSC_ERR.INTERNAL.code, detail: `answered ${status} without a decision` }
}

/** Counts Host headers without allocating: this runs before routing, on every request. */
function hostHeaderCount(rawHeaders: string[]): number {
  let n = 0
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!
    if (name.length === 4 && name.toLowerCase() === 'host') n++
  }
  return n
}
