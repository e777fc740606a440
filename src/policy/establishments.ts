// Rules by establishment and by local account, pure: which structures an exercice is
// practised in, whether one of them belongs to a set the route names, and what the route asks of
// the practitioner's account in the application. decide.ts calls these for each exercice.
import { PSC_ERR } from '../errors.js'
import type { StructureSetConfig } from '../config/schema.js'
import type { AccountLookup, Exercice, Structure } from '../psc/identity.js'
import type { ConditionsVerdict } from './decide.js'

/** A set as the configuration resolved it; a bare name is one that was never resolved: it matches nothing. */
export type AccessStructureEntry = StructureSetConfig | string

/** Whether one structure belongs to the set (any one of its numbers listed). */
export function inSet(s: Structure, set: StructureSetConfig): boolean {
  return (
    (s.finess !== undefined && set.finess?.includes(s.finess) === true) ||
    (s.finessLegal !== undefined && set.finessLegal?.includes(s.finessLegal) === true) ||
    (s.siret !== undefined && set.siret?.includes(s.siret) === true) ||
    (s.id !== undefined && set.id?.includes(s.id) === true)
  )
}

/** Whether the exercice is practised in a structure of one of the sets. */
export function inAnyStructureSet(e: Exercice, sets: readonly AccessStructureEntry[]): boolean {
  for (const set of sets) {
    if (typeof set === 'string') continue
    for (const s of e.structures) if (inSet(s, set)) return true
  }
  return false
}

/** The sets' names as the refusal page says them. */
export function structureSetLabels(sets: readonly AccessStructureEntry[]): string[] {
  return sets.map((set) =>
    typeof set === 'string'
      ? set
      : (set.label ?? set.finess?.[0] ?? set.finessLegal?.[0] ?? set.siret?.[0] ?? set.id?.[0] ?? '?'),
  )
}

/** The exercice's structures, named for the audit and the page ("" when it has none). */
export function heldStructures(e: Exercice): string {
  return e.structures.map((s) => s.name ?? s.finess ?? s.siret ?? s.id ?? '?').join(' + ')
}

interface AccountConditions {
  groups?: string[] | undefined
  account?: 'required' | undefined
}

const ALLOW: ConditionsVerdict = Object.freeze({ kind: 'allow' })

/**
 * The route's conditions on the local account. Without `account: required` or `groups`, a
 * practitioner with no account (or whose directory was down) passes, forwarded without account
 * headers. Groups compare case-insensitively, as Active Directory names do.
 */
export function decideAccount(access: AccountConditions, account: AccountLookup | undefined): ConditionsVerdict {
  if (access.account === undefined && access.groups === undefined) return ALLOW
  if (account === undefined || account.status === 'none') {
    return {
      kind: 'deny',
      code: PSC_ERR.DENIED_NO_ACCOUNT.code,
      details: { condition: 'account', allowed: [], held: [] },
    }
  }
  if (account.status === 'unavailable') return { kind: 'reject', code: PSC_ERR.DIRECTORY_UNAVAILABLE.code }
  if (account.status === 'duplicate') {
    return {
      kind: 'deny',
      code: PSC_ERR.DENIED_ACCOUNT_DUPLICATE.code,
      details: { condition: 'account', allowed: [], held: ['duplicate'] },
    }
  }
  if (account.status === 'disabled') {
    return {
      kind: 'deny',
      code: PSC_ERR.DENIED_ACCOUNT_DISABLED.code,
      details: { condition: 'account', allowed: [], held: ['disabled'] },
    }
  }
  const wanted = access.groups
  if (wanted === undefined) return ALLOW
  const held = new Set(account.groups.map((g) => g.toLowerCase()))
  if (wanted.some((g) => held.has(g.toLowerCase()))) return ALLOW
  return {
    kind: 'deny',
    code: PSC_ERR.DENIED_GROUP.code,
    details: { condition: 'group', allowed: wanted, held: account.groups },
  }
}
