// Where sessions live server-side. The cookie carries only a random id; everything else is here.
import type { Identity } from '../psc/identity.js'

export interface SessionRecord {
  identity: Identity
  /** PSC tokens: kept server-side only, never sent to the browser or logged */
  idToken: string
  accessToken: string
  refreshToken?: string
  /** epoch ms */
  accessTokenExpiresAt: number
  /** PSC `sid` claim, for back-channel logout */
  pscSid?: string
  /** epoch ms */
  createdAt: number
  lastSeenAt: number
}

/**
 * A session store. Implementations must treat ids as secrets (never log them) and may keep the
 * record for at most `ttlMs`; an expired or evicted record simply reads back as undefined.
 */
export interface SessionStore {
  readonly kind: string
  get(id: string): Promise<SessionRecord | undefined>
  set(id: string, record: SessionRecord, ttlMs: number): Promise<void>
  delete(id: string): Promise<void>
  /** live sessions, approximately (for readiness and metrics) */
  size(): number
  close(): Promise<void>
}
