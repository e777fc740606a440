// What the request path and the operational log need from the audit outputs, kept out of
// gateway.ts: the bounded wait of a new request while the trail cannot be written (then a 503:
// nothing is served that could not be audited), and one log line per outage of an output.
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import { PSC_ERR } from '../errors.js'
import { sendCode } from '../pages/respond.js'
import { setScope } from '../scope.js'

interface Admitting {
  admit(timeoutMs: number): Promise<boolean> | undefined
}

/**
 * The onRequest step: goes on at once when the audit outputs can take the request's event; else
 * waits up to `waitMs` for them, then answers 503. Callback style, like the gateway's hooks.
 */
export function admitWhileAuditable(
  output: Admitting,
  waitMs: number,
  request: FastifyRequest,
  reply: FastifyReply,
  done: (err?: Error) => void,
): void {
  const admitted = output.admit(waitMs)
  if (admitted === undefined) return done()
  admitted.then((ok) => {
    // The client gave up while it waited: nothing goes upstream on its behalf (its access event,
    // written when it left, says so: PSC_ERR_CLIENT_GONE).
    if (reply.raw.destroyed || request.raw.destroyed) {
      setScope(request, {
        decision: 'reject',
        reason: PSC_ERR.CLIENT_GONE.code,
        detail: 'the client closed the connection while the request waited for the audit output',
      })
      sendCode(request, reply, PSC_ERR.CLIENT_GONE.code)
      return
    }
    if (ok) return done()
    setScope(request, {
      decision: 'reject',
      reason: PSC_ERR.AUDIT_UNAVAILABLE.code,
      detail: `audit output not writable for ${waitMs} ms`,
    })
    reply.header('retry-after', '5')
    sendCode(request, reply, PSC_ERR.AUDIT_UNAVAILABLE.code, { retryHref: request.url })
  }, done)
}

/** One error line when an audit output starts failing, one when it recovers; the chain head at info. */
export function auditLogObserver(logger: FastifyBaseLogger) {
  return {
    failing(output: string, err: Error, mode: 'block' | 'drop' = 'block') {
      if (mode === 'drop') {
        logger.error(
          { output, mode, err: { message: err.message } },
          'audit output cannot write: drop mode, so requests go on and are not held; events that do not fit its queue are dropped and counted, and a gap record says how many once it writes again; /readyz stays ready',
        )
      } else {
        logger.error(
          { output, mode, err: { message: err.message } },
          'audit output cannot write: events are kept and retried; new requests wait (audit.writeWait), then get 503; /readyz says not ready',
        )
      }
    },
    dropped(output: string, lost: number, reason: string) {
      logger.warn(
        { output, lost, reason },
        'audit events dropped (a gap record will say how many and when); this line comes at most every 10 s',
      )
    },
    recovered(output: string, failedWrites: number, ms: number) {
      logger.warn({ output, failedWrites, durationMs: ms }, 'audit output writes again; the chain goes on')
    },
    head(head: { file: string; seq: number; mac: string; kid: string; time: string }) {
      logger.info(
        {
          auditHead: {
            file: head.file,
            seq: head.seq,
            mac: head.mac,
            kid: head.kid,
            time: head.time,
            expectHead: `${head.seq}:${head.mac}`,
          },
        },
        'audit chain head',
      )
    },
  }
}

interface SessionEnd {
  ref: string
  idNat: string
  profession?: string | undefined
  reason: 'idle-expired' | 'absolute-expired' | 'store-lost'
  sessionDurationMs: number
}
interface SessionEnds {
  watchEnds(listener: (end: SessionEnd) => void): void
  lostOnClose(max: number): { ends: SessionEnd[]; more: number }
}
interface Emitting {
  emit(
    input:
      | {
          event: 'session'
          outcome: 'ended'
          reason: string
          session: string
          idNat: string
          profession?: string | undefined
          sessionDurationMs: number
          noticed: 'store' | 'shutdown'
        }
      | { event: 'session'; outcome: 'ended'; reason: 'store-lost'; noticed: 'shutdown'; sessionsLost: number },
  ): unknown
}

/** Sessions the store ended by itself (timeouts while the practitioner is away, evictions) go to the trail. */
export function auditSessionEnds(sessions: SessionEnds, audit: Emitting): void {
  sessions.watchEnds((end) => {
    void audit.emit({
      event: 'session',
      outcome: 'ended',
      reason: end.reason,
      session: end.ref,
      idNat: end.idNat,
      profession: end.profession,
      sessionDurationMs: end.sessionDurationMs,
      noticed: 'store',
    })
  })
}

/** Sessions lost at shutdown listed one by one, at most; the rest are counted in one more event. */
export const MAX_LOST_SESSIONS_LISTED = 1000

/**
 * At shutdown, before the trail closes: every session a memory store is about to lose is an event
 * (store-lost, with its duration), so the trail says why those practitioners had to log in again.
 * Bounded, so that a gateway holding 50,000 sessions still stops at once. Returns how many.
 */
export function auditSessionsLostAtShutdown(
  sessions: SessionEnds,
  audit: Emitting,
  max: number = MAX_LOST_SESSIONS_LISTED,
): number {
  const { ends, more } = sessions.lostOnClose(max)
  for (const end of ends) {
    void audit.emit({
      event: 'session',
      outcome: 'ended',
      reason: end.reason,
      session: end.ref,
      idNat: end.idNat,
      profession: end.profession,
      sessionDurationMs: end.sessionDurationMs,
      noticed: 'shutdown',
    })
  }
  if (more > 0)
    void audit.emit({
      event: 'session',
      outcome: 'ended',
      reason: 'store-lost',
      noticed: 'shutdown',
      sessionsLost: more,
    })
  return ends.length + more
}
