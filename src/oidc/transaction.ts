// The login transaction (state, nonce, PKCE verifier, return path) travels in its own short-lived
// signed cookie, so any replica can finish a login that another started, and nothing piles up
// server-side for logins that are never finished. Several tabs may log in at once: the cookie holds
// a bounded list, newest first, so it can never grow until the server refuses the request headers.

export interface LoginTransaction {
  state: string
  nonce: string
  verifier: string
  /** a safe relative path on this gateway */
  returnTo: string
  /** epoch ms */
  expiresAt: number
}

export const MAX_PENDING_LOGINS = 3
const MAX_COOKIE_VALUE = 3000

export function encodeTransactions(list: readonly LoginTransaction[]): string {
  return Buffer.from(JSON.stringify(list.map((t) => [t.state, t.nonce, t.verifier, t.returnTo, t.expiresAt]))).toString(
    'base64url',
  )
}

/** Never throws: a damaged value reads as "no pending login". Expired entries are dropped. */
export function decodeTransactions(value: string | undefined, now: number): LoginTransaction[] {
  if (!value || value.length > MAX_COOKIE_VALUE) return []
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'))
  } catch {
    return []
  }
  if (!Array.isArray(parsed)) return []
  const out: LoginTransaction[] = []
  for (const item of parsed.slice(0, MAX_PENDING_LOGINS)) {
    if (!Array.isArray(item) || item.length !== 5) continue
    const [state, nonce, verifier, returnTo, expiresAt] = item as unknown[]
    if (typeof state !== 'string' || typeof nonce !== 'string' || typeof verifier !== 'string') continue
    if (typeof returnTo !== 'string' || typeof expiresAt !== 'number' || expiresAt <= now) continue
    out.push({ state, nonce, verifier, returnTo, expiresAt })
  }
  return out
}

export function addTransaction(
  list: readonly LoginTransaction[],
  tx: LoginTransaction,
  now: number,
): LoginTransaction[] {
  return [tx, ...list.filter((t) => t.expiresAt > now && t.state !== tx.state)].slice(0, MAX_PENDING_LOGINS)
}

export function takeTransaction(
  list: readonly LoginTransaction[],
  state: string,
): { found?: LoginTransaction; rest: LoginTransaction[] } {
  const found = list.find((t) => t.state === state)
  return { found, rest: list.filter((t) => t !== found) }
}
