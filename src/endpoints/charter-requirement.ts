// Whether a request allowed by the route rules must first go through the IT charter: a logged-in
// practitioner who has not accepted the version in force is sent to its page (a navigation) or
// refused with 403 (anything else), on every route but the public and exempt ones. Shared by the
// gate and forward-auth (gate.ts runs it after the decision, on the identity that was allowed).
import type { CharterSettings } from '../config/types.js'
import { PSC_ERR } from '../errors.js'
import type { Outcome } from '../policy/decide-request.js'
import type { CharterAcceptances } from '../session/charter-acceptance.js'
import { SessionStoreUnavailable } from '../session/store.js'

/** What the check is told about a request the route rules allowed. */
export interface CharterQuestion {
  host: string
  /** the normalised path, without the query */
  path: string
  /** a browser navigation with GET or HEAD: it may be redirected to the charter page */
  redirectable: boolean
  idNat: string
}

const TO_PAGE: Outcome = Object.freeze({
  kind: 'login',
  via: 'redirect',
  to: 'charter',
  code: PSC_ERR.CHARTER_REQUIRED.code,
})
const REFUSED: Outcome = Object.freeze({
  kind: 'login',
  via: 'status',
  to: 'charter',
  code: PSC_ERR.CHARTER_REQUIRED.code,
})
const STORE_DOWN: Outcome = Object.freeze({ kind: 'reject', code: PSC_ERR.STORE_UNAVAILABLE.code })

export class CharterRequirement {
  readonly #settings: CharterSettings
  readonly #acceptances: CharterAcceptances

  constructor(settings: CharterSettings, acceptances: CharterAcceptances) {
    this.#settings = settings
    this.#acceptances = acceptances
  }

  get version(): string {
    return this.#settings.version
  }

  /**
   * undefined: the request goes on as decided; otherwise the outcome to carry out instead (the
   * charter page, a 403, or 503 when the store cannot say: fail closed).
   */
  check(q: CharterQuestion): Outcome | undefined | Promise<Outcome | undefined> {
    if (this.exempt(q.host, q.path)) return undefined
    const unaccepted = q.redirectable ? TO_PAGE : REFUSED
    let accepted: boolean | Promise<boolean>
    try {
      accepted = this.#acceptances.accepted(q.idNat, this.#settings.version)
    } catch (err) {
      return storeDown(err)
    }
    if (accepted === true) return undefined
    if (accepted === false) return unaccepted
    return accepted.then((yes) => (yes ? undefined : unaccepted), storeDown)
  }

  exempt(host: string, path: string): boolean {
    const name = hostName(host)
    if (this.#settings.exemptHosts.includes(name)) return true
    return this.#settings.exemptPaths.some((p) => p === '/' || path === p || path.startsWith(`${p}/`))
  }
}

function storeDown(err: unknown): Outcome {
  if (err instanceof SessionStoreUnavailable) return STORE_DOWN
  throw err
}

/** The host without its port, lower case ("[::1]:8080" → "[::1]"). */
function hostName(host: string): string {
  const lower = host.toLowerCase()
  if (lower.startsWith('[')) return lower.slice(0, lower.indexOf(']') + 1)
  const colon = lower.indexOf(':')
  return colon === -1 ? lower : lower.slice(0, colon)
}
