// PSC UserInfo (+ ID token claims) → Identity. Pure and defensive: PSC sends "" for unknown values,
// older payloads move fields around, and nothing here may trust a type. The only failure is a
// missing national identifier (or ID token sub), reported as PscIdentityError.

import type { Exercice, Identity, Structure } from './identity.js'
import { professionLabel } from './professions.js'

/** The PSC answer cannot identify a practitioner; `claim` names what was missing. */
export class PscIdentityError extends Error {
  readonly code = 'PSC_IDENTITY_INVALID'
  readonly claim: string
  constructor(claim: string, message: string) {
    super(message)
    this.name = 'PscIdentityError'
    this.claim = claim
  }
}

export interface PscIdTokenClaims {
  sub: string
  acr?: unknown
  authMode?: unknown
}

type Json = Record<string, unknown>

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** own property only: never read through a (possibly polluted) prototype */
function prop(obj: unknown, key: string): unknown {
  return isRecord(obj) && Object.hasOwn(obj, key) ? obj[key] : undefined
}

/** a non-blank string, else undefined: PSC's "" means "unknown" */
function text(obj: unknown, key: string): string | undefined {
  const value = prop(obj, key)
  return typeof value === 'string' && value.trim() !== '' ? value : undefined
}

function records(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isRecord) : []
}

const RPPS_ID_NAT = /^8\d{11}$/

/** RPPS number = idNat without its leading "8", only for "8" + 11 digits */
export function rppsFromIdNat(idNat: string): string | undefined {
  return RPPS_ID_NAT.test(idNat) ? idNat.slice(1) : undefined
}

function structureFrom(activity: Json): Structure {
  const structure: Structure = {}
  const fields: [keyof Structure, string][] = [
    ['id', 'identifiantTechniqueDeLaStructure'],
    ['name', 'raisonSocialeSite'],
    ['finess', 'numeroFinessSite'],
    ['finessLegal', 'numeroFinessetablissementJuridique'],
    ['siret', 'numeroSiretSite'],
    ['sector', 'codeSecteurDactivite'],
    ['role', 'codeRole'],
  ]
  for (const [target, source] of fields) {
    const value = text(activity, source)
    if (value !== undefined) structure[target] = value
  }
  return structure
}

function exerciceFrom(raw: Json): Exercice {
  const professionCode = text(raw, 'codeProfession') ?? ''
  const exercice: Exercice = {
    professionCode,
    professionLabel: professionLabel(professionCode),
    structures: records(prop(raw, 'activities')).map(structureFrom),
  }
  const optional: [keyof Exercice, string][] = [
    ['category', 'codeCategorieProfessionnelle'],
    ['specialtyCode', 'codeSavoirFaire'],
    ['specialtyType', 'codeTypeSavoirFaire'],
    ['civility', 'codeCiviliteDexercice'],
    ['familyName', 'nomDexercice'],
    ['givenName', 'prenomDexercice'],
  ]
  for (const [target, source] of optional) {
    const value = text(raw, source)
    if (value !== undefined) (exercice as unknown as Record<string, unknown>)[target] = value
  }
  return exercice
}

/** profession codes from SubjectRole entries shaped "<code>^<OID>" (OID under 1.2.250.) */
function professionCodesFromRoles(roles: unknown): string[] {
  if (!Array.isArray(roles)) return []
  const codes: string[] = []
  for (const role of roles) {
    if (typeof role !== 'string') continue
    const caret = role.indexOf('^')
    if (caret <= 0) continue
    const code = role.slice(0, caret).trim()
    const oid = role.slice(caret + 1)
    if (code !== '' && oid.startsWith('1.2.250.') && !codes.includes(code)) codes.push(code)
  }
  return codes
}

/**
 * Builds the gateway's Identity from PSC's UserInfo and the (already validated) ID token claims.
 * Throws PscIdentityError only when no national identifier (SubjectNameID / preferred_username)
 * or no ID token `sub` can be found; every other oddity degrades to an absent field.
 */
export function identityFromPsc(userinfo: unknown, idToken: PscIdTokenClaims): Identity {
  const sub = prop(idToken, 'sub')
  if (typeof sub !== 'string' || sub.trim() === '') {
    throw new PscIdentityError('sub', 'PSC ID token has no "sub" claim (expected a non-empty string)')
  }
  const idNat = text(userinfo, 'SubjectNameID') ?? text(userinfo, 'preferred_username')
  if (idNat === undefined) {
    throw new PscIdentityError(
      'SubjectNameID',
      'PSC UserInfo has no national identifier: neither "SubjectNameID" nor "preferred_username" is a non-empty string',
    )
  }

  const refPro = prop(userinfo, 'SubjectRefPro')
  let exercices = records(prop(refPro, 'exercices')).map(exerciceFrom)
  if (exercices.length === 0) {
    exercices = professionCodesFromRoles(prop(userinfo, 'SubjectRole')).map((code) => ({
      professionCode: code,
      professionLabel: professionLabel(code),
      structures: [],
    }))
  }
  const first = exercices[0]

  const identity: Identity = {
    sub,
    idNat,
    familyName: text(userinfo, 'family_name') ?? first?.familyName ?? '',
    givenName: text(userinfo, 'given_name') ?? first?.givenName ?? '',
    acr: text(idToken, 'acr') ?? text(userinfo, 'acr') ?? '',
    exercices,
  }
  const rpps = rppsFromIdNat(idNat)
  if (rpps !== undefined) identity.rpps = rpps
  const civility = text(userinfo, 'codeCivilite') ?? text(refPro, 'codeCivilite')
  if (civility !== undefined) identity.civility = civility
  const authMode = text(idToken, 'authMode') ?? text(userinfo, 'authMode')
  if (authMode !== undefined) identity.authMode = authMode
  return identity
}

/** The exercice used for single-valued headers: the first one, in PSC order. */
export function primaryExercice(identity: Identity): Exercice | undefined {
  return identity.exercices[0]
}
