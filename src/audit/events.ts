// The audit trail's vocabulary: what security teams read to answer "who opened what, when, and was
// it allowed?". Never a token, a secret, a cookie value or a session id (only its hash reference).

interface EventBase {
  requestId: string
  /** client address as seen through trusted proxies */
  client: string
  userAgent?: string
  /** hash reference of the session id, never the id itself */
  session?: string
  idNat?: string
  profession?: string
}

export interface AccessEvent extends EventBase {
  event: 'access'
  /** reject: the request was refused before any rule (bad path, no matching route) */
  decision: 'allow' | 'deny' | 'login' | 'reject'
  route?: string
  reason?: string
  method: string
  path: string
  status: number
  durationMs: number
}

export interface LoginEvent extends EventBase {
  event: 'login'
  outcome: 'started' | 'succeeded' | 'failed'
  reason?: string
  acr?: string
  authMode?: string
}

export interface LogoutEvent extends EventBase {
  event: 'logout'
  cause: 'user' | 'idle-expired' | 'absolute-expired'
}

export type AuditEvent = AccessEvent | LoginEvent | LogoutEvent

export interface AuditSink {
  write(event: AuditEvent): void
}
