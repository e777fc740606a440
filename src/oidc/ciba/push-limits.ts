// Push bombing (flooding someone's phone with approval requests until they tap "accept") is the
// known attack on push-based login. Before a CIBA request goes to PSC: no new push to a
// practitioner who just refused one, one waiting push per practitioner at a time, and at most so
// many per practitioner and per client address in a window. Kept in the session store, so replicas
// sharing Redis share the counts; the memory store counts for one process.
import { createHash } from 'node:crypto'
import type { CibaSettings } from '../../config/types.js'
import type { SessionStore } from '../../session/store.js'

export type CibaLimitName = 'cooldown' | 'pending' | 'per_client' | 'per_idnat'

export type Admission =
  | { ok: true; release: () => Promise<void> }
  | { ok: false; limit: CibaLimitName; retryAfterSeconds: number }

/** Longest a practitioner's "one waiting push" lock is held if nobody releases it (a crashed process). */
const PENDING_LOCK_MS = 5 * 60_000

export class CibaLimits {
  constructor(
    private readonly store: SessionStore,
    private readonly settings: CibaSettings['limits'],
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a push may be sent to `idNat` for `client`; on success, release() when the request ends. */
  async admit(idNat: string, client: string): Promise<Admission> {
    const who = key(idNat)
    const s = this.settings
    if (await this.#held(`ciba:cooldown:${who}`))
      return { ok: false, limit: 'cooldown', retryAfterSeconds: Math.ceil(s.cooldownAfterDenialMs / 1000) }
    // One waiting push per practitioner; a request refused for that counts against nothing.
    const release = await this.store.tryLock(`ciba:pending:${who}`, PENDING_LOCK_MS)
    if (release === undefined) return { ok: false, limit: 'pending', retryAfterSeconds: 30 }
    let refusal: Admission | undefined
    if (!(await this.#count(`ciba:client:${key(client)}`, s.perClient)))
      refusal = { ok: false, limit: 'per_client', retryAfterSeconds: this.#windowLeft(s.perClient.windowMs) }
    else if (!(await this.#count(`ciba:idnat:${who}`, s.perIdNat)))
      refusal = { ok: false, limit: 'per_idnat', retryAfterSeconds: this.#windowLeft(s.perIdNat.windowMs) }
    if (refusal === undefined) return { ok: true, release }
    await release()
    return refusal
  }

  /** The practitioner refused: no new push to them for the cool-down. */
  async refused(idNat: string): Promise<void> {
    await this.store.tryLock(`ciba:cooldown:${key(idNat)}`, this.settings.cooldownAfterDenialMs)
  }

  /** A lock taken and given back at once: tells whether someone holds it, and leaves nothing behind. */
  async #held(lock: string): Promise<boolean> {
    const release = await this.store.tryLock(lock, 1000)
    if (release === undefined) return true
    await release()
    return false
  }

  /**
   * Fixed-window count with the store's rememberOnce: the window's slots 0..max-1 are taken in
   * turn; when none is free, the limit is reached. Atomic per slot in Redis (SET NX).
   */
  async #count(prefix: string, limit: { max: number; windowMs: number }): Promise<boolean> {
    const window = Math.floor(this.now() / limit.windowMs)
    for (let slot = 0; slot < limit.max; slot++) {
      if (await this.store.rememberOnce(`${prefix}:${window}:${slot}`, limit.windowMs)) return true
    }
    return false
  }

  #windowLeft(windowMs: number): number {
    return Math.max(1, Math.ceil((windowMs - (this.now() % windowMs)) / 1000))
  }
}

/** Personal data (idNat) and addresses never appear in store keys as such. */
function key(value: string): string {
  return createHash('sha256').update(value).digest('base64url').slice(0, 22)
}
