// The request's scope as the decision leaves it: decision, route, session, the exercice in context,
// and the code and detail of a refusal (the gate adds the forward target to an allow).
import { describeDenial } from '../policy/decide.js'
import type { Outcome } from '../policy/decide-request.js'
import { FIRST_EXERCICE, structureReference } from '../policy/exercice-in-context.js'
import type { RequestScope } from '../scope.js'
import type { Matched, ReadSession } from './gate-types.js'

/** The request's scope as the decision leaves it (the gate adds the forward target to an allow). */
export function scopeOf(
  matched: Matched,
  read: ReadSession,
  outcome: Outcome,
): { -readonly [K in keyof RequestScope]: RequestScope[K] } {
  const session = read.session
  const scope: { -readonly [K in keyof RequestScope]: RequestScope[K] } = {
    decision: outcome.kind,
    route: matched.route?.name,
  }
  if (session.kind === 'alive') {
    const identity = session.record.identity
    scope.session = session.record.ref
    scope.idNat = identity.idNat
    // An allowed request names the exercice it was allowed for; any other, the first.
    const inContext = outcome.kind === 'allow' ? outcome.exercice : FIRST_EXERCICE
    const exercice = identity.exercices[inContext.exercice]
    scope.profession = exercice?.professionCode
    if (outcome.kind === 'allow' && exercice !== undefined) {
      scope.exercice = inContext.exercice
      scope.structure = structureReference(exercice.structures[inContext.structure])
    }
  }
  if (outcome.kind !== 'allow') {
    scope.reason = outcome.code
    scope.detail = outcome.kind === 'deny' ? describeDenial(outcome.details) : read.detail
  }
  return scope
}
