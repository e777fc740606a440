// The exercice in context: of a practitioner's exercices, the one a request was decided for, and
// so the one the application is told about. Identity headers, the signed assertion, forward-auth
// answers and the audit line all read this one choice, never "the first exercice". Pure.
import type { StructureSetConfig } from '../config/schema.js'
import type { Exercice, Identity, Structure } from '../psc/identity.js'
import { meetsExerciceConditions } from './decide.js'
import { inSet, type AccessStructureEntry } from './establishments.js'
import type { CompiledRoute } from './rules.js'

export interface ExerciceInContext {
  /** index in identity.exercices (PSC order) */
  readonly exercice: number
  /** index in that exercice's structures (its activities): the establishment described */
  readonly structure: number
}

/** The first exercice at its first structure: also what a practitioner without exercices gets (nothing to describe). */
export const FIRST_EXERCICE: ExerciceInContext = Object.freeze({ exercice: 0, structure: 0 })

/**
 * The choice, among the exercices that meet the route's exercice conditions (profession, category,
 * specialty, establishment; every exercice when the route has none):
 *   1. the route names establishments: the first such exercice, at its first structure in one of them;
 *   2. otherwise the first one practised in one of the hospital's establishments (`home`: the
 *      top-level `structures` and those the routes name), at that structure;
 *   3. otherwise the first one, at its first structure.
 * Called only for a request already allowed: some exercice meets the conditions, or the route has
 * none. A rule on the local account (groups, account) does not depend on the exercice.
 */
export function exerciceInContext(
  route: CompiledRoute,
  identity: Identity,
  home: readonly AccessStructureEntry[],
): ExerciceInContext {
  const exercices = identity.exercices
  const access = route.access
  const conditions = typeof access === 'string' ? undefined : access
  const constrained =
    conditions !== undefined &&
    (conditions.professions !== undefined ||
      conditions.categories !== undefined ||
      conditions.specialties !== undefined ||
      conditions.structures !== undefined)
  // The usual practitioner has one exercice: nothing to choose, nothing allocated.
  if (exercices.length <= 1 && (conditions?.structures === undefined || exercices.length === 0)) {
    return exercices.length === 0 || home.length === 0
      ? FIRST_EXERCICE
      : at(0, Math.max(0, structureIn(exercices[0]!, home)))
  }
  let firstCandidate = -1
  for (let i = 0; i < exercices.length; i++) {
    const e = exercices[i]!
    if (constrained && conditions !== undefined && !meetsExerciceConditions(e, conditions)) continue
    if (conditions?.structures !== undefined) return at(i, Math.max(0, structureIn(e, conditions.structures)))
    if (firstCandidate === -1) firstCandidate = i
    const s = structureIn(e, home)
    if (s !== -1) return at(i, s)
  }
  return at(Math.max(0, firstCandidate), 0)
}

/** The index of the exercice's first structure in one of the sets, or -1. */
function structureIn(e: Exercice, sets: readonly AccessStructureEntry[]): number {
  const structures = e.structures
  for (let i = 0; i < structures.length; i++) {
    for (const set of sets) if (typeof set !== 'string' && inSet(structures[i]!, set)) return i
  }
  return -1
}

function at(exercice: number, structure: number): ExerciceInContext {
  return exercice === 0 && structure === 0 ? FIRST_EXERCICE : { exercice, structure }
}

/** Every establishment the configuration names: the top-level sets, then those written inside routes. */
export function homeEstablishments(
  named: Readonly<Record<string, StructureSetConfig>>,
  routes: readonly CompiledRoute[],
): readonly StructureSetConfig[] {
  const out: StructureSetConfig[] = Object.values(named)
  for (const r of routes) {
    if (typeof r.access === 'string' || r.access.structures === undefined) continue
    for (const set of r.access.structures)
      if (typeof set !== 'string' && !out.some((o) => sameSet(o, set))) out.push(set)
  }
  return Object.freeze(out)
}

function sameSet(a: StructureSetConfig, b: StructureSetConfig): boolean {
  const same = (x: readonly string[] | undefined, y: readonly string[] | undefined) =>
    (x ?? []).join() === (y ?? []).join()
  return same(a.finess, b.finess) && same(a.finessLegal, b.finessLegal) && same(a.siret, b.siret) && same(a.id, b.id)
}

/** How the audit names a structure: its FINESS site, else its SIRET, else its technical id. */
export function structureReference(s: Structure | undefined): string | undefined {
  return s === undefined ? undefined : (s.finess ?? s.siret ?? s.id)
}
