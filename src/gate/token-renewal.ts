// The gate's token step: a request allowed on a session whose tokens are due (a forwarded access
// token, a re-validation with PSC, a local account to look up again) waits for their renewal. PSC's
// refusal ends the session (state "revoked"); a failure keeps it with stale tokens ("tokens-stale").
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuditTrail } from '../audit/trail.js'
import { PSC_ERR } from '../errors.js'
import type { TokenKeeper } from '../oidc/token-keeper.js'
import type { Outcome, SessionState } from '../policy/decide-request.js'
import { clearCookieNow } from '../session/cookies.js'
import { sessionReference } from '../session/ids.js'
import type { SessionManager } from '../session/manager.js'
import type { RequestSession } from '../session/request-session.js'
import type { Matched, ReadSession } from './gate-types.js'
import { NO_SESSION } from './read-session.js'

type AliveSession = RequestSession & { kind: 'alive' }

/** A renewal the request waits for: the session, and whether the route needs its local account. */
export interface RenewalDue {
  alive: AliveSession
  needsAccount: boolean
}

const REVOKED: SessionState = Object.freeze({ state: 'revoked' })

export function createTokenRenewal(deps: {
  tokens: TokenKeeper
  sessions: SessionManager
  audit: AuditTrail
  cookieName: string
}) {
  const { tokens, sessions, audit, cookieName } = deps

  /**
   * The renewal the outcome waits for, if any. A route with no account condition never waits for
   * the directory: its account is renewed aside, started here.
   */
  function due(matched: Matched, read: ReadSession, outcome: Outcome): RenewalDue | undefined {
    const session = read.session
    // A directory that was down at login is asked again (at most every accounts.retryEvery).
    const renewable =
      outcome.kind === 'allow' || (outcome.kind === 'reject' && outcome.code === PSC_ERR.DIRECTORY_UNAVAILABLE.code)
    if (!renewable || session.kind !== 'alive') return undefined
    const access = matched.route!.access
    const needsAccount = typeof access !== 'string' && (access.account !== undefined || access.groups !== undefined)
    if (!needsAccount) tokens.refreshAccountInBackground(session.id, session.record)
    if (!tokens.needsRefresh(session.record, matched.upstream!.forwardAccessToken, needsAccount)) return undefined
    return { alive: session, needsAccount }
  }

  /** Renews the session's tokens (forwarded access token, or re-validation with PSC): the session to decide on. */
  async function renew(
    request: FastifyRequest,
    reply: FastifyReply,
    matched: Matched,
    { alive, needsAccount }: RenewalDue,
  ): Promise<ReadSession> {
    const identity = alive.record.identity
    const who = {
      session: sessionReference(alive.id),
      idNat: identity.idNat,
      profession: identity.exercices[0]?.professionCode,
    }
    const fresh = await tokens.refresh(alive.id, alive.record, matched.upstream!.forwardAccessToken, needsAccount)
    if (fresh.kind === 'fresh') {
      if (fresh.refreshed) audit.record(request, { event: 'session', outcome: 'refreshed', ...who })
      // the refresh may bring a new local account: decide on the fresh identity
      return {
        session: { ...alive, record: fresh.record },
        state: { state: 'alive', identity: fresh.record.identity },
      }
    }
    if (fresh.kind === 'revoked') {
      // PSC ended the practitioner's session: ours ends too.
      request.log.info({ reason: fresh.reason }, 'session not renewed by PSC')
      // endEventually: the store may have stopped answering during the call to PSC.
      await sessions.endEventually(alive.id)
      audit.record(request, { event: 'logout', cause: 'revoked', reason: fresh.reason, ...who })
      audit.record(request, { event: 'session', outcome: 'ended', reason: 'revoked', ...who })
      clearCookieNow(reply, cookieName)
      return { session: NO_SESSION.session, state: REVOKED, detail: `session revoked by PSC: ${fresh.reason}` }
    }
    return {
      session: alive,
      state: { state: 'tokens-stale', identity },
      detail: `tokens not renewed: ${fresh.reason}`,
    }
  }

  return { due, renew }
}
