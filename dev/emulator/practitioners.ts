// Test practitioners of the local PSC emulator: their YAML shape, validation and loading.
// Errors name the file and the entry, because the file is edited by hand.

import { readFile } from 'node:fs/promises'
import { parse } from 'yaml'
import { isEidasLevel, type EidasLevel } from '../../src/psc/acr.js'

export interface PractitionerStructure {
  /** identifiantTechniqueDeLaStructure */
  id: string
  /** raisonSocialeSite */
  name: string
  /** numeroFinessSite */
  finess?: string
  /** numeroFinessetablissementJuridique */
  finessLegal?: string
  /** numeroSiretSite */
  siret?: string
  /** codeSecteurDactivite, e.g. "SA01" */
  sector?: string
  /** codeRole, e.g. "FON-01" */
  role?: string
  /** codeModeExercice: L libéral, S salarié, B bénévole */
  modeExercice?: string
  postalCode?: string
  city?: string
}

export interface PractitionerExercice {
  /** TRE_G15 codeProfession; codes outside the table are allowed on purpose */
  professionCode: string
  /** C civil, M agent public, E étudiant */
  category: string
  specialtyCode?: string
  specialtyType?: string
  /** codeCiviliteDexercice, e.g. "DR" */
  civility?: string
  structures: PractitionerStructure[]
}

export interface Practitioner {
  idNat: string
  givenName: string
  familyName: string
  /** codeCivilite, e.g. "M", "MME" */
  civility: string
  /** acr the emulator returns for this practitioner (default eidas1) */
  acr: EidasLevel
  /** PSC authMode claim (default "CARD") */
  authMode: string
  exercices: PractitionerExercice[]
}

/** The practitioners file is missing, unreadable or has an invalid entry. */
export class PractitionersFileError extends Error {
  readonly code = 'EMULATOR_PRACTITIONERS_INVALID'
  readonly file: string
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(`${file}: ${message}`, options)
    this.name = 'PractitionersFileError'
    this.file = file
  }
}

type Raw = Record<string, unknown>

class EntryError extends Error {}

function isRecord(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function checkKeys(obj: Raw, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw new EntryError(`${where}: unknown field "${key}" (expected one of: ${allowed.join(', ')})`)
    }
  }
}

function requiredString(obj: Raw, key: string, where: string): string {
  const value = obj[key]
  if (typeof value !== 'string' || value.trim() === '') {
    const hint = typeof value === 'number' ? ' (quote it in YAML: numbers lose leading zeros)' : ''
    throw new EntryError(`${where}.${key} must be a non-empty string, got ${describe(value)}${hint}`)
  }
  return value
}

function optionalString(obj: Raw, key: string, where: string): string | undefined {
  if (obj[key] === undefined || obj[key] === null) return undefined
  return requiredString(obj, key, where)
}

/** codes are often written unquoted in YAML (professionCode: 10): accept integers as text */
function codeString(obj: Raw, key: string, where: string): string {
  const value = obj[key]
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return String(value)
  return requiredString(obj, key, where)
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'string') return JSON.stringify(value)
  return `${typeof value} ${JSON.stringify(value)}`
}

const STRUCTURE_KEYS = [
  'id',
  'name',
  'finess',
  'finessLegal',
  'siret',
  'sector',
  'role',
  'modeExercice',
  'postalCode',
  'city',
] as const
const EXERCICE_KEYS = [
  'professionCode',
  'category',
  'specialtyCode',
  'specialtyType',
  'civility',
  'structures',
] as const
const PRACTITIONER_KEYS = ['idNat', 'givenName', 'familyName', 'civility', 'acr', 'authMode', 'exercices'] as const

function structureFrom(raw: unknown, where: string): PractitionerStructure {
  if (!isRecord(raw)) throw new EntryError(`${where} must be a mapping, got ${describe(raw)}`)
  checkKeys(raw, STRUCTURE_KEYS, where)
  const structure: PractitionerStructure = {
    id: codeString(raw, 'id', where),
    name: requiredString(raw, 'name', where),
  }
  for (const key of [
    'finess',
    'finessLegal',
    'siret',
    'sector',
    'role',
    'modeExercice',
    'postalCode',
    'city',
  ] as const) {
    const value = raw[key] === undefined || raw[key] === null ? undefined : codeString(raw, key, where)
    if (value !== undefined) structure[key] = value
  }
  return structure
}

function exerciceFrom(raw: unknown, where: string): PractitionerExercice {
  if (!isRecord(raw)) throw new EntryError(`${where} must be a mapping, got ${describe(raw)}`)
  checkKeys(raw, EXERCICE_KEYS, where)
  const category = requiredString(raw, 'category', where)
  if (!['C', 'M', 'E'].includes(category)) {
    throw new EntryError(`${where}.category must be C, M or E, got ${describe(category)}`)
  }
  const structuresRaw = raw.structures ?? []
  if (!Array.isArray(structuresRaw)) {
    throw new EntryError(`${where}.structures must be a list, got ${describe(structuresRaw)}`)
  }
  const exercice: PractitionerExercice = {
    professionCode: codeString(raw, 'professionCode', where),
    category,
    structures: structuresRaw.map((s, i) => structureFrom(s, `${where}.structures[${i}]`)),
  }
  for (const key of ['specialtyCode', 'specialtyType', 'civility'] as const) {
    const value = optionalString(raw, key, where)
    if (value !== undefined) exercice[key] = value
  }
  return exercice
}

function practitionerFrom(raw: unknown, index: number): Practitioner {
  const idNat = isRecord(raw) && typeof raw.idNat === 'string' ? ` (idNat ${JSON.stringify(raw.idNat)})` : ''
  const where = `practitioners[${index}]${idNat}`
  if (!isRecord(raw)) throw new EntryError(`${where} must be a mapping, got ${describe(raw)}`)
  checkKeys(raw, PRACTITIONER_KEYS, where)
  const acr = raw.acr ?? 'eidas1'
  if (!isEidasLevel(acr)) {
    throw new EntryError(`${where}.acr must be eidas1, eidas2 or eidas3, got ${describe(acr)}`)
  }
  if (!Array.isArray(raw.exercices) || raw.exercices.length === 0) {
    throw new EntryError(`${where}.exercices must be a non-empty list, got ${describe(raw.exercices)}`)
  }
  const exercicesRaw: unknown[] = raw.exercices
  return {
    idNat: requiredString(raw, 'idNat', where),
    givenName: requiredString(raw, 'givenName', where),
    familyName: requiredString(raw, 'familyName', where),
    civility: requiredString(raw, 'civility', where),
    acr,
    authMode: optionalString(raw, 'authMode', where) ?? 'CARD',
    exercices: exercicesRaw.map((e, i) => exerciceFrom(e, `${where}.exercices[${i}]`)),
  }
}

/** Validates parsed YAML/JSON; `source` names the file in errors. Pure. */
export function parsePractitioners(document: unknown, source: string): Practitioner[] {
  if (!Array.isArray(document) || document.length === 0) {
    throw new PractitionersFileError(source, `expected a non-empty list of practitioners, got ${describe(document)}`)
  }
  const entries: unknown[] = document
  const practitioners: Practitioner[] = []
  const seen = new Set<string>()
  entries.forEach((raw, index) => {
    let practitioner: Practitioner
    try {
      practitioner = practitionerFrom(raw, index)
    } catch (err) {
      if (err instanceof EntryError) throw new PractitionersFileError(source, err.message)
      throw err
    }
    if (seen.has(practitioner.idNat)) {
      throw new PractitionersFileError(
        source,
        `practitioners[${index}]: duplicate idNat ${JSON.stringify(practitioner.idNat)}`,
      )
    }
    seen.add(practitioner.idNat)
    practitioners.push(practitioner)
  })
  return practitioners
}

/** Reads, parses and validates a practitioners YAML file. */
export async function loadPractitioners(file: string): Promise<Practitioner[]> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (cause) {
    throw new PractitionersFileError(file, `cannot read practitioners file (${(cause as Error).message})`, { cause })
  }
  let document: unknown
  try {
    document = parse(text)
  } catch (cause) {
    throw new PractitionersFileError(file, `invalid YAML: ${(cause as Error).message}`, { cause })
  }
  return parsePractitioners(document, file)
}
