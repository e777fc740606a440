// The admin listener's bearer token: read from its file at each call (a rotated Kubernetes Secret
// takes effect without a restart), compared in constant time, never logged nor echoed.
import { createHash, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'

export interface AdminTokenSettings {
  /** absent: the session API is off */
  tokenFile?: string | undefined
  /** who holds it, for the audit (default admin) */
  tokenName?: string | undefined
}

export type TokenCheck =
  | { ok: true; name: string }
  | { ok: false; why: 'off' | 'unreadable' | 'refused'; reason: string }

/** Shorter than this, a token file is refused as a mistake (an empty file, a placeholder). */
export const MIN_TOKEN_LENGTH = 32

/** The token a file holds (one trailing newline tolerated), or why it cannot be used. */
export function readAdminToken(file: string): { token: string } | { problem: string } {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    return { problem: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }
  }
  const token = text.replace(/\r?\n$/, '')
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token))
    return { problem: `${file} must hold one token of at least ${MIN_TOKEN_LENGTH} characters, without spaces` }
  return { token }
}

export function checkAdminToken(settings: AdminTokenSettings, authorization: string | undefined): TokenCheck {
  if (settings.tokenFile === undefined) return { ok: false, why: 'off', reason: 'admin.tokenFile is not set' }
  const read = readAdminToken(settings.tokenFile)
  if ('problem' in read) return { ok: false, why: 'unreadable', reason: read.problem }
  const given = /^Bearer ([^\s]+)$/i.exec(authorization ?? '')?.[1]
  if (given === undefined)
    return { ok: false, why: 'refused', reason: authorization === undefined ? 'no token' : 'not a bearer token' }
  // Digests of equal length, so that neither the content nor the length of the token leaks by timing.
  const same = timingSafeEqual(digest(given), digest(read.token))
  return same ? { ok: true, name: settings.tokenName ?? 'admin' } : { ok: false, why: 'refused', reason: 'wrong token' }
}

const digest = (text: string) => createHash('sha256').update(text).digest()
