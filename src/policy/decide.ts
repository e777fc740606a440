// A route's conditions against a practitioner's identity: pure data in, a coded verdict out. A
// denial carries a code and the facts behind it (what the route asks, what the practitioner holds)
// so that the page can say it in French, the audit in English; never a sentence to parse.
import { PSC_ERR, type DenyCode } from '../errors.js'
import type { Exercice, Identity } from '../psc/identity.js'
import {
  decideAccount,
  heldStructures,
  inAnyStructureSet,
  structureSetLabels,
  type AccessStructureEntry,
} from './establishments.js'
import type { CompiledRoute } from './rules.js'

/** The condition that failed, what the route allows and what the practitioner has. */
export interface DenialDetails {
  condition:
    | 'idNat'
    | 'exercice'
    | 'profession'
    | 'category'
    | 'specialty'
    | 'exercices'
    /** establishments and local accounts: allowed = set labels or groups; held = structures or groups */
    | 'structure'
    | 'account'
    | 'group'
  /** codes the route allows for that condition (empty for idNat: the list is not repeated) */
  allowed: readonly string[]
  /** the practitioner's codes for that condition, one per exercice, in PSC order ("" = none) */
  held: readonly string[]
}

export type ConditionsVerdict =
  | { kind: 'allow' }
  | { kind: 'deny'; code: DenyCode; details: DenialDetails }
  /** the route needs the local account and the directory could not give it (503, retry later) */
  | { kind: 'reject'; code: typeof PSC_ERR.DIRECTORY_UNAVAILABLE.code }

const ALLOW: ConditionsVerdict = Object.freeze({ kind: 'allow' })

type ExerciceCondition = 'profession' | 'category' | 'specialty' | 'structure'
const EXERCICE_CONDITIONS = ['profession', 'category', 'specialty', 'structure'] as const

export interface ExerciceConditions {
  professions?: string[] | undefined
  categories?: string[] | undefined
  specialties?: string[] | undefined
  structures?: AccessStructureEntry[] | undefined
}

const CONDITION_CODES: Record<ExerciceCondition, DenyCode> = {
  profession: PSC_ERR.DENIED_PROFESSION.code,
  category: PSC_ERR.DENIED_CATEGORY.code,
  specialty: PSC_ERR.DENIED_SPECIALTY.code,
  structure: PSC_ERR.DENIED_STRUCTURE.code,
}

function allowedFor(c: ExerciceConditions, condition: ExerciceCondition): string[] | undefined {
  switch (condition) {
    case 'profession':
      return c.professions
    case 'category':
      return c.categories
    case 'specialty':
      return c.specialties
    case 'structure':
      return c.structures === undefined ? undefined : structureSetLabels(c.structures)
  }
}

function heldFor(e: Exercice, condition: ExerciceCondition): string {
  switch (condition) {
    case 'profession':
      return e.professionCode
    case 'category':
      return e.category ?? ''
    case 'specialty':
      return e.specialtyCode ?? ''
    case 'structure':
      return heldStructures(e)
  }
}

function meets(e: Exercice, c: ExerciceConditions, condition: ExerciceCondition): boolean {
  if (condition === 'structure') return c.structures === undefined || inAnyStructureSet(e, c.structures)
  const allowed = allowedFor(c, condition)
  return allowed === undefined || allowed.includes(heldFor(e, condition))
}

/** Whether one exercice meets every exercice condition of the route (profession, category, specialty, establishment). */
export function meetsExerciceConditions(e: Exercice, c: ExerciceConditions): boolean {
  for (const condition of EXERCICE_CONDITIONS) if (!meets(e, c, condition)) return false
  return true
}

function failedConditions(e: Exercice, c: ExerciceConditions): ExerciceCondition[] {
  const out: ExerciceCondition[] = []
  for (const condition of EXERCICE_CONDITIONS) if (!meets(e, c, condition)) out.push(condition)
  return out
}

/**
 * The route's conditions on a known practitioner. Routes 'public' and 'authenticated' have none.
 * Profession, category, specialty and establishment must hold for one and the same exercice: a
 * doctor (10) who is also a student (E) in another exercice is not a "doctor agent public", and a
 * doctor elsewhere who is a nurse here is not a "doctor here". The local account comes last.
 */
export function decideAccess(route: CompiledRoute, identity: Identity): ConditionsVerdict {
  const access = route.access
  if (typeof access === 'string') return ALLOW
  if (access.idNat !== undefined && !access.idNat.includes(identity.idNat)) {
    return { kind: 'deny', code: PSC_ERR.DENIED_IDNAT.code, details: { condition: 'idNat', allowed: [], held: [] } }
  }
  const exercice = decideExercice(access, identity)
  return exercice.kind === 'allow' ? decideAccount(access, identity.account) : exercice
}

function decideExercice(access: ExerciceConditions, identity: Identity): ConditionsVerdict {
  if (
    access.professions === undefined &&
    access.categories === undefined &&
    access.specialties === undefined &&
    access.structures === undefined
  )
    return ALLOW
  const exercices = identity.exercices
  if (exercices.length === 0) {
    return {
      kind: 'deny',
      code: PSC_ERR.DENIED_NO_EXERCICE.code,
      details: { condition: 'exercice', allowed: [], held: [] },
    }
  }
  const failures: ExerciceCondition[][] = []
  for (const e of exercices) {
    const failed = failedConditions(e, access)
    if (failed.length === 0) return ALLOW
    failures.push(failed)
  }
  // One condition that no exercice meets names the page's message ("réservée aux pharmaciens");
  // otherwise each exercice fails on something else.
  for (const condition of EXERCICE_CONDITIONS) {
    if (failures.every((f) => f.includes(condition))) {
      return {
        kind: 'deny',
        code: CONDITION_CODES[condition],
        details: {
          condition,
          allowed: allowedFor(access, condition)!,
          held: exercices.map((e) => heldFor(e, condition)),
        },
      }
    }
  }
  return {
    kind: 'deny',
    code: PSC_ERR.DENIED_EXERCICE.code,
    details: {
      condition: 'exercices',
      allowed: [],
      held: exercices.map(
        (e) =>
          `${e.professionCode}/${e.category ?? ''}/${e.specialtyCode ?? ''}${access.structures === undefined ? '' : `@${heldStructures(e)}`}`,
      ),
    },
  }
}

/** The technical sentence for the log and the audit, e.g. "profession 21 not in [10]". */
export function describeDenial(details: DenialDetails): string {
  switch (details.condition) {
    case 'idNat':
      return 'national id not in the allowed list'
    case 'exercice':
      return 'no professional exercice'
    case 'exercices':
      return `no single exercice meets every condition (exercices: ${details.held.join(', ')})`
    case 'structure':
      return `no exercice meeting the other conditions in [${details.allowed.join(', ')}] (structures: ${details.held.map((h) => h || 'none').join(', ')})`
    case 'account':
      return details.held.length > 0 ? `local account ${details.held.join(',')}` : 'no local account'
    case 'group':
      return `local account groups [${details.held.join(',')}] not in [${details.allowed.join(',')}]`
    default:
      return `${details.condition} ${details.held.map((h) => h || 'none').join(',')} not in [${details.allowed.join(',')}]`
  }
}
