// How the gate answers an outcome it does not forward: the refusal page (who is logged in, whom to
// contact), the login (a redirect, to the public host first, or a 401), the IT charter.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { GatewayConfig } from '../config/types.js'
import { SESSION_EXPIRED_PARAM } from '../pages/login-notice.js'
import { sendCharterRefusal } from '../pages/charter-refusal.js'
import { sendCode } from '../pages/respond.js'
import type { Outcome } from '../policy/decide-request.js'
import type { RequestSessionIdentity } from './gate-types.js'

export function createOutcomeAnswer(config: GatewayConfig, accountContact: string | undefined) {
  const prefix = config.prefix

  /** `expired`: the session timed out on this request; the login page tells the practitioner so. */
  return function answer(
    request: FastifyRequest,
    reply: FastifyReply,
    url: string,
    outcome: Exclude<Outcome, { kind: 'allow' }>,
    identity: RequestSessionIdentity,
    expired: boolean,
  ): void {
    const loginHref = `${prefix}/login?rd=${encodeURIComponent(url)}`
    if (outcome.kind === 'deny') {
      const who =
        identity === undefined
          ? undefined
          : { displayName: `${identity.givenName} ${identity.familyName}`.trim(), idNat: identity.idNat }
      return void sendCode(request, reply, outcome.code, {
        denial: outcome.details,
        who,
        logoutHref: `${prefix}/logout`,
        ...(accountContact !== undefined && { contact: accountContact }),
      })
    }
    if (outcome.kind === 'reject') return void sendCode(request, reply, outcome.code, { retryHref: url })
    if (outcome.to === 'charter') {
      const charterHref = `${prefix}/charter?rd=${encodeURIComponent(url)}`
      if (outcome.via === 'status') return void sendCharterRefusal(request, reply, charterHref)
      return void reply.header('cache-control', 'no-store').redirect(charterHref, 302)
    }
    if (outcome.via === 'status')
      return void sendCode(request, reply, outcome.code, { loginHref, sessionExpired: expired })
    // A login can only finish on the public host: go there first, to the same page.
    const location =
      outcome.to === 'public-host'
        ? config.publicUrl + url
        : expired
          ? `${loginHref}&${SESSION_EXPIRED_PARAM}`
          : loginHref
    reply.header('cache-control', 'no-store').redirect(location, 302)
  }
}
