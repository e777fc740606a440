// The access decision for one request on one route: pure data in, a decision out. Reasons name
// codes (profession, category, specialty), never personal data such as the national id.
import type { Exercice, Identity } from '../psc/identity.js'
import type { CompiledRoute } from './rules.js'

export type AccessDecision =
  | { kind: 'allow' }
  | { kind: 'login' }
  | { kind: 'deny'; reason: string }

const ALLOW: AccessDecision = Object.freeze({ kind: 'allow' })
const LOGIN: AccessDecision = Object.freeze({ kind: 'login' })

interface ExerciceConditions {
  professions?: string[] | undefined
  categories?: string[] | undefined
  specialties?: string[] | undefined
}

function failures (e: Exercice, c: ExerciceConditions): string[] {
  const out: string[] = []
  if (c.professions && !c.professions.includes(e.professionCode)) {
    out.push(`profession ${e.professionCode || 'none'} not in [${c.professions.join(',')}]`)
  }
  if (c.categories && !(e.category !== undefined && c.categories.includes(e.category))) {
    out.push(`category ${e.category ?? 'none'} not in [${c.categories.join(',')}]`)
  }
  if (c.specialties && !(e.specialtyCode !== undefined && c.specialties.includes(e.specialtyCode))) {
    out.push(`specialty ${e.specialtyCode ?? 'none'} not in [${c.specialties.join(',')}]`)
  }
  return out
}

export function decideAccess (route: CompiledRoute, identity: Identity | undefined): AccessDecision {
  const access = route.access
  if (access === 'public') return ALLOW
  if (identity === undefined) return LOGIN
  if (access === 'authenticated') return ALLOW

  if (access.idNat !== undefined && !access.idNat.includes(identity.idNat)) {
    return { kind: 'deny', reason: 'national id not in the allowed list' }
  }
  if (access.professions === undefined && access.categories === undefined && access.specialties === undefined) {
    return ALLOW
  }
  // professions, categories and specialties must hold for one and the same exercice: a doctor
  // (10) who is also a student (E) in another exercice is not a "doctor agent public".
  const exercices = identity.exercices
  if (exercices.length === 0) return { kind: 'deny', reason: 'no professional exercice' }
  const reasons: string[] = []
  for (const e of exercices) {
    const f = failures(e, access)
    if (f.length === 0) return ALLOW
    reasons.push(f.join(', '))
  }
  if (reasons.length === 1) return { kind: 'deny', reason: reasons[0]! }
  return { kind: 'deny', reason: `no single exercice qualifies: ${reasons.map((r, i) => `#${i + 1}: ${r}`).join('; ')}` }
}
