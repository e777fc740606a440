// The gate's session step: the request's session read from the store, turned into the state the
// decision is told. A cookie that names no live session is cleared, a session found ended is
// audited, a store that does not answer is the state "unavailable" (the decision fails closed).
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuditTrail } from '../audit/trail.js'
import type { SessionState } from '../policy/decide-request.js'
import { clearCookieNow } from '../session/cookies.js'
import { sessionReference } from '../session/ids.js'
import type { SessionManager } from '../session/manager.js'
import { readRequestSession, type RequestSession } from '../session/request-session.js'
import { SessionStoreUnavailable } from '../session/store.js'
import type { ReadSession } from './gate-types.js'

export const NO_SESSION: ReadSession = Object.freeze({
  session: Object.freeze({ kind: 'none' }),
  state: Object.freeze({ state: 'none' }),
})
const EXPIRED: SessionState = Object.freeze({ state: 'expired' })
const CONFLICT: SessionState = Object.freeze({ state: 'conflict' })

export function createSessionRead(cookieName: string, sessions: SessionManager, audit: AuditTrail) {
  /** The memory store answers without a promise: no await (and no microtask) on that path. */
  return function readSession(request: FastifyRequest, reply: FastifyReply): ReadSession | Promise<ReadSession> {
    try {
      const read = readRequestSession(request, cookieName, sessions)
      if (read instanceof Promise) return read.then((s) => sessionRead(request, reply, s), storeFailed)
      return sessionRead(request, reply, read)
    } catch (err) {
      return storeFailed(err)
    }
  }

  function sessionRead(request: FastifyRequest, reply: FastifyReply, session: RequestSession): ReadSession {
    switch (session.kind) {
      case 'alive':
        return { session, state: { state: 'alive', identity: session.record.identity } }
      case 'none':
        return NO_SESSION
      case 'invalid':
        clearCookieNow(reply, cookieName)
        return { session, state: NO_SESSION.state, detail: session.problem }
      case 'duplicated':
        clearCookieNow(reply, cookieName)
        return { session, state: CONFLICT, detail: 'session cookie sent twice' }
      case 'ended': {
        clearCookieNow(reply, cookieName)
        const ref = sessionReference(session.id)
        audit.record(request, { event: 'logout', cause: session.why, session: ref })
        audit.record(request, { event: 'session', outcome: 'ended', reason: session.why, session: ref })
        return { session, state: EXPIRED }
      }
    }
  }
}

function storeFailed(err: unknown): ReadSession {
  if (!(err instanceof SessionStoreUnavailable)) throw err
  return {
    session: NO_SESSION.session,
    state: { state: 'unavailable' },
    detail: `session store unavailable: ${err.reason}`,
  }
}
