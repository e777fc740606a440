// What the browser is answered once the push is asked for (POST <prefix>/ciba): started (the
// request bound to this browser's cookie, then the waiting page), or refused by the abuse limits,
// unknown to PSC, or PSC unavailable or refusing; each audited.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuditTrail } from '../../audit/trail.js'
import { endpointScope } from '../../endpoints/endpoint-scope.js'
import { PSC_ERR, PSC_ERR_CIBA } from '../../errors.js'
import type { CibaAnswers } from './ciba-answers.js'
import type { StartOutcome } from './waiting-requests.js'

export interface StartAnswerDeps {
  audit: AuditTrail
  problem: CibaAnswers['problem']
  cookieName: string
  cookieOptions: { path: string; httpOnly: boolean; sameSite: 'lax'; secure: boolean; signed: boolean }
  cibaPath: string
}

export function answerStart(
  request: FastifyRequest,
  reply: FastifyReply,
  outcome: StartOutcome,
  asked: { idNat: string; rd: string },
  deps: StartAnswerDeps,
): FastifyReply {
  const { idNat, rd } = asked
  const { audit, problem, cookieName, cookieOptions, cibaPath } = deps
  switch (outcome.kind) {
    case 'started': {
      const r = outcome.request
      audit.record(request, { event: 'ciba', outcome: 'requested', idNat, cibaRequest: r.ref })
      audit.record(request, { event: 'login', outcome: 'started', idNat, loginMethod: 'ciba' })
      endpointScope(request, 'login', { idNat })
      reply.setCookie(cookieName, r.id, {
        ...cookieOptions,
        maxAge: Math.ceil((r.expiresAt - Date.now()) / 1000) + 60,
      })
      return reply.redirect(cibaPath, 303)
    }
    case 'limited':
      audit.record(request, { event: 'ciba', outcome: 'refused', idNat, reason: `limit ${outcome.limit}` })
      return problem(
        request,
        reply,
        429,
        outcome.limit === 'cooldown' || outcome.limit === 'pending' ? outcome.limit : 'limited',
        rd,
        {
          decision: 'reject',
          reason: PSC_ERR.TOO_MANY_REQUESTS.code,
          detail: `${PSC_ERR_CIBA.LIMITED.code}: limit ${outcome.limit}`,
          idNat,
        },
        outcome.retryAfterSeconds,
      )
    case 'unknown_id':
      audit.record(request, { event: 'ciba', outcome: 'unknown_id', idNat, reason: 'PSC answered unknown_user_id' })
      return problem(request, reply, 400, 'unknown_id', rd, {
        decision: 'login',
        reason: PSC_ERR.LOGIN_PSC_ERROR.code,
        detail: `${PSC_ERR_CIBA.UNKNOWN_ID.code}: PSC answered unknown_user_id`,
        idNat,
      })
    case 'psc_unavailable':
      request.log.warn({ reason: outcome.reason }, 'CIBA: PSC unavailable')
      audit.record(request, { event: 'ciba', outcome: 'failed', idNat, reason: outcome.reason })
      return problem(request, reply, 503, 'psc_unavailable', rd, {
        decision: 'login',
        reason: PSC_ERR.LOGIN_PSC_UNREACHABLE.code,
        detail: `${PSC_ERR_CIBA.PSC_UNAVAILABLE.code}: ${outcome.reason}`,
        idNat,
      })
    case 'failed':
      request.log.warn({ reason: outcome.reason }, 'CIBA: PSC refused the request')
      audit.record(request, { event: 'ciba', outcome: 'failed', idNat, reason: outcome.reason })
      return problem(request, reply, 502, 'failed', rd, {
        decision: 'login',
        reason: PSC_ERR.LOGIN_PSC_ERROR.code,
        detail: `${PSC_ERR_CIBA.FAILED.code}: ${outcome.reason}`,
        idNat,
      })
  }
}
