// Who accepted which version of the IT charter: one key per idNat and version in the session
// store's shared values (memory, or Redis shared by the replicas), kept charter.remember. A
// replica remembers the acceptances it saw for a few minutes, so a request costs no store round trip.
import { LRUCache } from 'lru-cache'
import type { SessionStore } from './store.js'

/** How long a replica trusts an acceptance it read without asking the store again. */
const LOCAL_MS = 5 * 60_000

export class CharterAcceptances {
  readonly #store: SessionStore
  readonly #rememberMs: number
  readonly #now: () => number
  readonly #seen = new LRUCache<string, true>({ max: 20_000, ttl: LOCAL_MS })

  constructor(store: SessionStore, rememberMs: number, now: () => number = Date.now) {
    this.#store = store
    this.#rememberMs = rememberMs
    this.#now = now
  }

  /** Whether `idNat` accepted `version`; throws SessionStoreUnavailable when the store cannot say. */
  accepted(idNat: string, version: string): boolean | Promise<boolean> {
    const key = acceptanceKey(idNat, version)
    if (this.#seen.get(key) === true) return true
    return this.#store.getShared(key).then((value) => {
      if (value === undefined) return false
      this.#seen.set(key, true)
      return true
    })
  }

  /** Records the acceptance for charter.remember. */
  async accept(idNat: string, version: string): Promise<void> {
    const key = acceptanceKey(idNat, version)
    await this.#store.putShared(
      key,
      JSON.stringify({ acceptedAt: new Date(this.#now()).toISOString() }),
      this.#rememberMs,
    )
    this.#seen.set(key, true)
  }
}

/** The store key of one practitioner's acceptance of one version (idNat is opaque: it may hold "/"). */
export function acceptanceKey(idNat: string, version: string): string {
  return `charter:${version}:${encodeURIComponent(idNat)}`
}
