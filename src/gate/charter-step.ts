// The gate's IT charter step: what the route rules allowed a practitioner waits for the charter to
// be accepted (public routes and the charter's exempt paths apart).
import type { CharterRequirement } from '../endpoints/charter-requirement.js'
import type { CarryOut } from './gate-types.js'

/**
 * Runs the IT charter's check on what the route rules allowed to a practitioner (public routes
 * apart), then carries out the outcome, or the charter's instead.
 */
export function charterFirst(charter: CharterRequirement, carryOut: CarryOut): CarryOut {
  return (request, reply, matched, read, outcome) => {
    if (outcome.kind !== 'allow' || outcome.identity === undefined || matched.route?.access === 'public')
      return carryOut(request, reply, matched, read, outcome)
    const q = matched.url.indexOf('?')
    const asked = charter.check({
      host: matched.host,
      path: q === -1 ? matched.url : matched.url.slice(0, q),
      redirectable:
        matched.facts.kind === 'navigation' && (matched.facts.method === 'GET' || matched.facts.method === 'HEAD'),
      idNat: outcome.identity.idNat,
    })
    if (asked instanceof Promise)
      return asked.then((instead) => carryOut(request, reply, matched, read, instead ?? outcome))
    return carryOut(request, reply, matched, read, asked ?? outcome)
  }
}
