// Session timeouts, as pure functions of the record and the clock.
import type { SessionRecord } from './store.js'

export interface SessionTimeouts {
  idleTimeoutMs: number
  absoluteTimeoutMs: number
}

export type SessionState = 'alive' | 'idle-expired' | 'absolute-expired'

export function sessionState(record: SessionRecord, now: number, t: SessionTimeouts): SessionState {
  if (now - record.createdAt >= t.absoluteTimeoutMs) return 'absolute-expired'
  if (now - record.lastSeenAt >= t.idleTimeoutMs) return 'idle-expired'
  return 'alive'
}

/** How long the store should keep the record from `now`: until whichever timeout comes first. */
export function remainingLifetimeMs(record: SessionRecord, now: number, t: SessionTimeouts): number {
  const absoluteLeft = record.createdAt + t.absoluteTimeoutMs - now
  const idleLeft = record.lastSeenAt + t.idleTimeoutMs - now
  return Math.max(0, Math.min(absoluteLeft, idleLeft))
}

/**
 * Writing lastSeenAt back on every request would make each request a store write (costly with Redis).
 * We write it back at most once per this interval; idle expiry is thus precise to within it.
 */
export function touchIntervalMs(t: SessionTimeouts): number {
  return Math.min(60_000, Math.floor(t.idleTimeoutMs / 10))
}
