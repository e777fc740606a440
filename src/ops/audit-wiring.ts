// What the request path and the operational log need from the audit outputs, kept out of
// gateway.ts: the bounded wait of a new request while the trail cannot be written (then a 503:
// nothing is served that could not be audited), and one log line per outage of an output.
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import type { PscErrorCode } from '../errors.js'
import { pageLanguage } from '../pages/language.js'
import { sendProblem, type Problem } from '../pages/respond.js'
import { setScope } from '../scope.js'

/**
 * The outcome code of a request refused because its audit event could not be written. Defined here
 * until the lead gathers it into src/errors.ts (503, "audit trail cannot be written").
 */
export const PSC_ERR_AUDIT_UNAVAILABLE = 'PSC_ERR_AUDIT_UNAVAILABLE' as PscErrorCode

export function auditUnavailableProblem (lang: 'fr' | 'en'): Problem {
  return lang === 'en'
    ? {
        status: 503,
        code: PSC_ERR_AUDIT_UNAVAILABLE,
        title: 'Service temporarily unavailable',
        paragraphs: [
          'The gateway cannot record the access trail at the moment; for safety, it lets nothing through without a trace.',
          'Try again in a few moments. If it lasts, tell the hospital\'s IT support.'
        ]
      }
    : {
        status: 503,
        code: PSC_ERR_AUDIT_UNAVAILABLE,
        title: 'Service momentanément indisponible',
        paragraphs: [
          'La passerelle ne peut pas enregistrer la trace des accès pour le moment ; par sécurité, elle ne laisse rien passer sans trace.',
          'Réessayez dans quelques instants. Si cela dure, prévenez le support informatique de l\'établissement.'
        ]
      }
}

interface Admitting {
  admit(timeoutMs: number): Promise<boolean> | undefined
}

/**
 * The onRequest step: goes on at once when the audit outputs can take the request's event; else
 * waits up to `waitMs` for them, then answers 503. Callback style, like the gateway's hooks.
 */
export function admitWhileAuditable (output: Admitting, waitMs: number, request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void {
  const admitted = output.admit(waitMs)
  if (admitted === undefined) return done()
  admitted.then((ok) => {
    if (ok) return done()
    setScope(request, { decision: 'reject', reason: PSC_ERR_AUDIT_UNAVAILABLE, detail: `audit output not writable for ${waitMs} ms` })
    reply.header('retry-after', '5')
    const lang = pageLanguage(request.headers['accept-language']) === 'en' ? 'en' : 'fr'
    sendProblem(request, reply, auditUnavailableProblem(lang))
  }, done)
}

/** One error line when an audit output starts failing, one when it recovers; the chain head at info. */
export function auditLogObserver (logger: FastifyBaseLogger) {
  return {
    failing (output: string, err: Error) {
      logger.error({ output, err: { message: err.message } }, 'audit output cannot write: events are kept and retried; new requests wait, then get 503 (block mode); /readyz says not ready')
    },
    recovered (output: string, failedWrites: number, ms: number) {
      logger.warn({ output, failedWrites, durationMs: ms }, 'audit output writes again; the chain goes on')
    },
    head (head: { file: string; seq: number; mac: string; kid: string; time: string }) {
      logger.info({ auditHead: { file: head.file, seq: head.seq, mac: head.mac, kid: head.kid, time: head.time, expectHead: `${head.seq}:${head.mac}` } }, 'audit chain head')
    }
  }
}

interface SessionEnds {
  watchEnds(listener: (end: { ref: string; idNat: string; profession?: string | undefined; reason: 'idle-expired' | 'absolute-expired' | 'store-lost'; sessionDurationMs: number }) => void): void
}
interface Emitting {
  emit(input: { event: 'session'; outcome: 'ended'; reason: string; session: string; idNat: string; profession?: string | undefined; sessionDurationMs: number; noticed: 'store' }): unknown
}

/** Sessions the store ended by itself (timeouts while the practitioner is away, evictions) go to the trail. */
export function auditSessionEnds (sessions: SessionEnds, audit: Emitting): void {
  sessions.watchEnds((end) => {
    void audit.emit({ event: 'session', outcome: 'ended', reason: end.reason, session: end.ref, idNat: end.idNat, profession: end.profession, sessionDurationMs: end.sessionDurationMs, noticed: 'store' })
  })
}
