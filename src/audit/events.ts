// The audit trail's vocabulary: what security teams read to answer "who opened what, when, and was
// it allowed?". The types come from event-schema.ts (the one description, also published as
// docs/audit-events.schema.json). Never a token, a secret, a cookie value or a session id (only its
// hash reference), and no query string unless audit.includeQuery.
export type {
  AccessEvent,
  AdminEvent,
  AuditEvent,
  ChainStart,
  CharterEvent,
  CibaEvent,
  ConfigEvent,
  LoginEvent,
  LogoutEvent,
  SessionEvent,
} from './event-schema.js'
export { AUDIT_SCHEMA_VERSION } from './event-schema.js'
import type { AuditEvent } from './event-schema.js'

export type AccessDecision = 'allow' | 'deny' | 'login' | 'reject'
export type LogoutCause = 'user' | 'backchannel' | 'idle-expired' | 'absolute-expired' | 'revoked'

/**
 * Where complete events go. `write` never throws and normally returns nothing; a sink in "block"
 * mode whose queue is full returns a promise that resolves when there is room again: the caller
 * awaits it (that is the backpressure), and the event itself is already queued, never lost.
 */
export interface AuditSink {
  write(event: AuditEvent): void | Promise<void>
  /** resolves when a full queue has room again; undefined when there is room now */
  whenRoom?(): Promise<void> | undefined
}
