// How the CIBA browser routes answer: a CIBA page with its security headers, or one of the CIBA
// problem pages after the request's scope is written (with a way back to the login, and to the card
// login when the route offers both).
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { GatewayConfig } from '../../config/types.js'
import { endpointScope } from '../../endpoints/endpoint-scope.js'
import type { PscErrorCode } from '../../errors.js'
import { CIBA_PAGE_HEADERS, cibaProblemPage, type CibaProblem } from '../../pages/ciba-pages.js'
import { pageLanguage } from '../../pages/language.js'
import type { RouteTable } from '../../policy/rules.js'
import { cibaModeFor } from './mode.js'

/** What a problem page writes in the request's scope. */
export interface ProblemScope {
  decision: 'login' | 'reject'
  reason?: PscErrorCode
  detail?: string
  idNat?: string
}

export type CibaAnswers = ReturnType<typeof createCibaAnswers>

export function createCibaAnswers(config: GatewayConfig, routes: RouteTable) {
  const settings = config.psc.ciba
  const loginPath = `${config.prefix}/login`
  const modeOf = (request: FastifyRequest, returnTo: string) => cibaModeFor(settings, routes, request.host, returnTo)
  const loginHref = (rd: string, via?: 'psc') => `${loginPath}?rd=${encodeURIComponent(rd)}${via ? '&via=psc' : ''}`

  function html(reply: FastifyReply, status: number, body: string): FastifyReply {
    return reply.code(status).headers(CIBA_PAGE_HEADERS).send(body)
  }

  /**
   * Answers with one of the CIBA pages, after writing the request's scope: the outcome code when
   * errors.ts has one that fits, and the CIBA code (PSC_ERR_CIBA_*) first in the detail.
   */
  function problem(
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    which: CibaProblem,
    rd: string,
    scope: ProblemScope,
    retryAfterSeconds?: number,
  ): FastifyReply {
    endpointScope(request, scope.decision, { reason: scope.reason, detail: scope.detail, idNat: scope.idNat })
    if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds))
    const cardHref = modeOf(request, rd) === 'both' ? loginHref(rd, 'psc') : undefined
    return html(
      reply,
      status,
      cibaProblemPage(pageLanguage(request.headers['accept-language']), which, {
        retryHref: loginHref(rd),
        cardHref,
        retryAfterSeconds,
        requestId: request.id,
      }),
    )
  }

  return { modeOf, loginHref, html, problem }
}
