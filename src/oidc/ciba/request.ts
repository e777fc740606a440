// One CIBA request as the browser's replica sees it, and as the session store keeps it for the
// other replicas: its key (a hash of the id), its text, and the check of a stored copy. Pure.
import { createHash } from 'node:crypto'
import { safeReturnPath } from '../../policy/return-path.js'
import type { NewSession } from '../../session/manager.js'

export type CibaFailure = 'denied' | 'expired' | 'psc_unavailable' | 'failed' | 'cancelled'

export interface CibaRequest {
  /** 256 random bits, known only to the browser that started it (signed cookie) */
  readonly id: string
  /** a hash of the id, for the audit trail */
  readonly ref: string
  readonly idNat: string
  /** the client address that asked */
  readonly client: string
  readonly bindingMessage: string
  readonly returnTo: string
  /** epoch ms */
  readonly expiresAt: number
  state: 'pending' | 'approved' | 'failed'
  fields?: NewSession
  failure?: CibaFailure
  /** technical detail for the log and the audit trail, never for the page */
  reason?: string
}

/** A request's state as the store keeps it for the other replicas. */
type SharedState = Omit<CibaRequest, 'id'>

const FAILURES: ReadonlySet<unknown> = new Set<CibaFailure>([
  'denied',
  'expired',
  'psc_unavailable',
  'failed',
  'cancelled',
])

/** The store key of a request: a hash of its id, so the store never holds the browser's secret. */
export function sharedKey(id: string): string {
  return `ciba:request:${createHash('sha256').update(id).digest('base64url')}`
}

export function sharedText(r: CibaRequest): string {
  const state: SharedState = {
    ref: r.ref,
    idNat: r.idNat,
    client: r.client,
    bindingMessage: r.bindingMessage,
    returnTo: r.returnTo,
    expiresAt: r.expiresAt,
    state: r.state,
    fields: r.fields,
    failure: r.failure,
    reason: r.reason,
  }
  return JSON.stringify(state)
}

/**
 * The store's copy, checked field by field: another version of the gateway (a rolling update) or
 * anything else writing under the same prefix must not turn into a crash or an open redirect.
 */
export function fromShared(id: string, raw: string | undefined): CibaRequest | undefined {
  if (raw === undefined) return undefined
  let v: unknown
  try {
    v = JSON.parse(raw)
  } catch {
    return undefined
  }
  if (typeof v !== 'object' || v === null) return undefined
  const s = v as Record<string, unknown>
  const wellFormed =
    typeof s.ref === 'string' &&
    typeof s.idNat === 'string' &&
    typeof s.client === 'string' &&
    typeof s.bindingMessage === 'string' &&
    typeof s.returnTo === 'string' &&
    safeReturnPath(s.returnTo) === s.returnTo &&
    typeof s.expiresAt === 'number' &&
    (s.failure === undefined || FAILURES.has(s.failure)) &&
    (s.state === 'pending' ||
      s.state === 'failed' ||
      (s.state === 'approved' && typeof s.fields === 'object' && s.fields !== null))
  return wellFormed ? { ...(s as unknown as SharedState), id } : undefined
}
