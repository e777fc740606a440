// A route's conditions against a practitioner's identity: pure data in, a coded verdict out. A
// denial carries a code and the facts behind it (what the route asks, what the practitioner holds)
// so that the page can say it in French, the audit in English; never a sentence to parse.
import { PSC_ERR, type DenyCode } from '../errors.js'
import type { Exercice, Identity } from '../psc/identity.js'
import type { CompiledRoute } from './rules.js'

/** The condition that failed, what the route allows and what the practitioner has. */
export interface DenialDetails {
  condition: 'idNat' | 'exercice' | 'profession' | 'category' | 'specialty' | 'exercices'
  /** codes the route allows for that condition (empty for idNat: the list is not repeated) */
  allowed: readonly string[]
  /** the practitioner's codes for that condition, one per exercice, in PSC order ("" = none) */
  held: readonly string[]
}

export type ConditionsVerdict =
  | { kind: 'allow' }
  | { kind: 'deny'; code: DenyCode; details: DenialDetails }

const ALLOW: ConditionsVerdict = Object.freeze({ kind: 'allow' })

type ExerciceCondition = 'profession' | 'category' | 'specialty'

interface ExerciceConditions {
  professions?: string[] | undefined
  categories?: string[] | undefined
  specialties?: string[] | undefined
}

const CONDITION_CODES: Record<ExerciceCondition, DenyCode> = {
  profession: PSC_ERR.DENIED_PROFESSION.code,
  category: PSC_ERR.DENIED_CATEGORY.code,
  specialty: PSC_ERR.DENIED_SPECIALTY.code
}

function allowedFor (c: ExerciceConditions, condition: ExerciceCondition): string[] | undefined {
  return condition === 'profession' ? c.professions : condition === 'category' ? c.categories : c.specialties
}

function heldFor (e: Exercice, condition: ExerciceCondition): string {
  return (condition === 'profession' ? e.professionCode : condition === 'category' ? e.category : e.specialtyCode) ?? ''
}

function failedConditions (e: Exercice, c: ExerciceConditions): ExerciceCondition[] {
  const out: ExerciceCondition[] = []
  for (const condition of ['profession', 'category', 'specialty'] as const) {
    const allowed = allowedFor(c, condition)
    if (allowed !== undefined && !allowed.includes(heldFor(e, condition))) out.push(condition)
  }
  return out
}

/**
 * The route's conditions on a known practitioner. Routes 'public' and 'authenticated' have none.
 * Profession, category and specialty must hold for one and the same exercice: a doctor (10) who is
 * also a student (E) in another exercice is not a "doctor agent public".
 */
export function decideAccess (route: CompiledRoute, identity: Identity): ConditionsVerdict {
  const access = route.access
  if (typeof access === 'string') return ALLOW
  if (access.idNat !== undefined && !access.idNat.includes(identity.idNat)) {
    return { kind: 'deny', code: PSC_ERR.DENIED_IDNAT.code, details: { condition: 'idNat', allowed: [], held: [] } }
  }
  if (access.professions === undefined && access.categories === undefined && access.specialties === undefined) return ALLOW
  const exercices = identity.exercices
  if (exercices.length === 0) {
    return { kind: 'deny', code: PSC_ERR.DENIED_NO_EXERCICE.code, details: { condition: 'exercice', allowed: [], held: [] } }
  }
  const failures: ExerciceCondition[][] = []
  for (const e of exercices) {
    const failed = failedConditions(e, access)
    if (failed.length === 0) return ALLOW
    failures.push(failed)
  }
  // One condition that no exercice meets names the page's message ("réservée aux pharmaciens");
  // otherwise each exercice fails on something else.
  for (const condition of ['profession', 'category', 'specialty'] as const) {
    if (failures.every((f) => f.includes(condition))) {
      return {
        kind: 'deny',
        code: CONDITION_CODES[condition],
        details: { condition, allowed: allowedFor(access, condition)!, held: exercices.map((e) => heldFor(e, condition)) }
      }
    }
  }
  return {
    kind: 'deny',
    code: PSC_ERR.DENIED_EXERCICE.code,
    details: { condition: 'exercices', allowed: [], held: exercices.map((e) => `${e.professionCode}/${e.category ?? ''}/${e.specialtyCode ?? ''}`) }
  }
}

/** The technical sentence for the log and the audit, e.g. "profession 21 not in [10]". */
export function describeDenial (details: DenialDetails): string {
  switch (details.condition) {
    case 'idNat': return 'national id not in the allowed list'
    case 'exercice': return 'no professional exercice'
    case 'exercices': return `no single exercice meets every condition (exercices: ${details.held.join(', ')})`
    default: return `${details.condition} ${details.held.map((h) => h || 'none').join(',')} not in [${details.allowed.join(',')}]`
  }
}
