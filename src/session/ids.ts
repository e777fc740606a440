// Session ids: a new random one at each login, its format check, and the reference logs name it by.
import { createHash, randomBytes } from 'node:crypto'

/** 256 random bits: unguessable, and a new one at every login (no fixation). */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url')
}

/** A stable reference to a session for logs and audit that cannot be turned back into a cookie. */
export function sessionReference(id: string): string {
  return createHash('sha256').update(id).digest('base64url').slice(0, 16)
}

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/

export function isWellFormedSessionId(value: string): boolean {
  return SESSION_ID.test(value)
}
