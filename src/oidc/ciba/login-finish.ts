// How a CIBA login ends in the browser that started it (GET <prefix>/ciba once the request is no
// longer pending): approved, the session starts and the browser goes to the page asked for;
// otherwise the page of how it failed (denied, expired, PSC unavailable, failed, cancelled).
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuditTrail } from '../../audit/trail.js'
import type { GatewayConfig } from '../../config/types.js'
import { PSC_ERR, PSC_ERR_CIBA, type CodeDefinition, type PscErrorCode } from '../../errors.js'
import type { CibaProblem } from '../../pages/ciba-pages.js'
import type { SessionManager } from '../../session/manager.js'
import { LoginFailure } from '../login-failure.js'
import { startSession, type SessionStartDeps } from '../session-start.js'
import type { CibaAnswers } from './ciba-answers.js'
import type { CibaFailure, CibaRequest, CibaRequests } from './waiting-requests.js'

export interface FinishDeps {
  config: GatewayConfig
  sessions: SessionManager
  audit: AuditTrail
  accounts?: SessionStartDeps['accounts']
  requests: CibaRequests
  problem: CibaAnswers['problem']
}

/**
 * How each way a CIBA request can fail is answered: its page, its CIBA code (whose status the answer
 * has) and the general code that fits it (the audit's reason; none for a cancel, which is no failure
 * of the gateway or of PSC).
 */
const FAILURE_ANSWERS: Record<CibaFailure, [CibaProblem, CodeDefinition, PscErrorCode | undefined]> = {
  denied: ['denied', PSC_ERR_CIBA.DENIED, PSC_ERR.LOGIN_CANCELLED.code],
  expired: ['expired', PSC_ERR_CIBA.EXPIRED, PSC_ERR.LOGIN_PSC_ERROR.code],
  psc_unavailable: ['psc_unavailable', PSC_ERR_CIBA.PSC_UNAVAILABLE, PSC_ERR.LOGIN_PSC_UNREACHABLE.code],
  failed: ['failed', PSC_ERR_CIBA.FAILED, PSC_ERR.LOGIN_PSC_ERROR.code],
  cancelled: ['cancelled', PSC_ERR_CIBA.CANCELLED, undefined],
}

/** `r`: this browser's request, approved or ended. */
export async function finishCibaLogin(
  request: FastifyRequest,
  reply: FastifyReply,
  r: CibaRequest,
  deps: FinishDeps,
): Promise<FastifyReply> {
  const { config, sessions, audit, requests, problem } = deps
  if (r.state === 'approved') {
    const fields = await requests.collect(r.id)
    // Collected by another tab of this browser an instant ago: that tab carries on.
    if (fields === undefined)
      return problem(request, reply, 404, 'lost', r.returnTo, {
        decision: 'login',
        detail: `${PSC_ERR_CIBA.UNKNOWN_REQUEST.code}: collected by another tab`,
      })
    try {
      await startSession(request, reply, { config, sessions, audit, accounts: deps.accounts }, fields, 'ciba')
    } catch (err) {
      if (!(err instanceof LoginFailure)) throw err
      audit.record(request, {
        event: 'login',
        outcome: 'failed',
        idNat: r.idNat,
        reason: err.code,
        detail: err.detail,
        loginMethod: 'ciba',
      })
      return problem(request, reply, 503, 'failed', r.returnTo, {
        decision: 'login',
        reason: err.code,
        detail: err.detail,
        idNat: r.idNat,
      })
    }
    return reply.redirect(r.returnTo, 303)
  }
  await requests.cancel(r.id)
  const [page, ciba, reason] = FAILURE_ANSWERS[r.failure ?? 'failed']
  const detail = `${ciba.code}: ${r.reason ?? ciba.message}`
  audit.record(request, { event: 'login', outcome: 'failed', idNat: r.idNat, reason, detail, loginMethod: 'ciba' })
  return problem(request, reply, ciba.status, page, r.returnTo, { decision: 'login', reason, detail, idNat: r.idNat })
}
