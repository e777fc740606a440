// What the emulator says about a practitioner, in PSC's exact shapes (see
// test/fixtures/userinfo-example.json, PSC's UserInfo example): every unknown value is "" as PSC sends it.

import { createHash } from 'node:crypto'
import { SUBJECT_ROLE_OID } from '../../src/psc/professions.js'
import type { Practitioner, PractitionerExercice, PractitionerStructure } from './practitioners.js'

const SECTEUR_ACTIVITE_OID = '1.2.250.1.71.4.2.4'
const PALIER_AUTHENTIFICATION = 'APPPRIP3^1.2.250.1.213.1.5.1.1.1'
const PSI_LOCALE = '1.2.250.1.213.1.3.1.1'

export interface PscOtherId {
  identifiant: string
  origine: 'RPPS' | 'ADELI' | 'EDIT'
  qualite: number
}

/** A stable UUID (name-based, v5 layout) so that `sub` never changes between runs. */
function stableUuid(idNat: string): string {
  const hex = createHash('sha1').update(`psc-emulator:${idNat}`).digest('hex')
  const variant = ((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(18, 20)}-${hex.slice(20, 32)}`
}

/** PSC subject: f:<uuid>:<idNat> */
export function pscSubFor(practitioner: Pick<Practitioner, 'idNat'>): string {
  return `f:${stableUuid(practitioner.idNat)}:${practitioner.idNat}`
}

export function otherIdsFor(practitioner: Pick<Practitioner, 'idNat'>): PscOtherId[] {
  const { idNat } = practitioner
  if (/^8\d{11}$/.test(idNat)) return [{ identifiant: idNat.slice(1), origine: 'RPPS', qualite: 1 }]
  if (/^0\d+$/.test(idNat)) return [{ identifiant: idNat.slice(1), origine: 'ADELI', qualite: 1 }]
  return [{ identifiant: idNat, origine: 'EDIT', qualite: 1 }]
}

function activityFor(s: PractitionerStructure): Record<string, string> {
  return {
    codeModeExercice: s.modeExercice ?? '',
    codeSecteurDactivite: s.sector ?? '',
    codeSectionPharmacien: '',
    codeRole: s.role ?? '',
    codeGenreActivite: 'GENR01',
    numeroSiretSite: s.siret ?? '',
    numeroSirenSite: s.siret ? s.siret.slice(0, 9) : '',
    numeroFinessSite: s.finess ?? '',
    numeroFinessetablissementJuridique: s.finessLegal ?? '',
    identifiantTechniqueDeLaStructure: s.id,
    raisonSocialeSite: s.name,
    enseigneCommercialeSite: '',
    complementDestinataire: '',
    complementPointGeographique: '',
    numeroVoie: '',
    indiceRepetitionVoie: '',
    codeTypeDeVoie: '',
    libelleVoie: '',
    mentionDistribution: '',
    bureauCedex: s.postalCode && s.city ? `${s.postalCode} ${s.city.toUpperCase()}` : '',
    codePostal: s.postalCode ?? '',
    codeCommune: '',
    codePays: '99000',
    telephone: '',
    telephone2: '',
    telecopie: '',
    adresseEMail: '',
    codeDepartement: '',
    ancienIdentifiantDeLaStructure: '',
    autoriteDenregistrement: '',
  }
}

function exerciceFor(p: Practitioner, e: PractitionerExercice): Record<string, unknown> {
  return {
    codeProfession: e.professionCode,
    codeCategorieProfessionnelle: e.category,
    codeCiviliteDexercice: e.civility ?? '',
    nomDexercice: p.familyName,
    prenomDexercice: p.givenName,
    codeTypeSavoirFaire: e.specialtyType ?? '',
    codeSavoirFaire: e.specialtyCode ?? '',
    activities: e.structures.map(activityFor),
  }
}

/** The PSC UserInfo document for a practitioner (scope_all), without `sub` (the provider adds it). */
export function pscClaimsFor(practitioner: Practitioner): Record<string, unknown> {
  const p = practitioner
  const firstStructure = p.exercices[0]?.structures[0]
  const roles = [...new Set(p.exercices.map((e) => `${e.professionCode}^${SUBJECT_ROLE_OID}`))]
  return {
    Secteur_Activite: firstStructure?.sector ? `${firstStructure.sector}^${SECTEUR_ACTIVITE_OID}` : '',
    codeGenreActivite: 'GENR01',
    SubjectOrganization: firstStructure?.name ?? '',
    Mode_Acces_Raison: '',
    preferred_username: p.idNat,
    codeCivilite: p.civility,
    given_name: p.givenName,
    Acces_Regulation_Medicale: 'FAUX',
    UITVersion: '1.0',
    Palier_Authentification: PALIER_AUTHENTIFICATION,
    SubjectRefPro: { exercices: p.exercices.map((e) => exerciceFor(p, e)) },
    SubjectOrganizationID: firstStructure?.id ?? '',
    SubjectRole: roles,
    PSI_Locale: PSI_LOCALE,
    otherIds: otherIdsFor(p),
    SubjectNameID: p.idNat,
    family_name: p.familyName,
  }
}

/** Extra ID token claims PSC puts beside sub/acr/sid/auth_time. */
export function pscIdTokenClaimsFor(practitioner: Practitioner): Record<string, unknown> {
  return {
    preferred_username: practitioner.idNat,
    authMode: practitioner.authMode,
    otherIds: otherIdsFor(practitioner),
  }
}

/** Every claim name the emulator releases under scope_all (userinfo and ID token). */
export const PSC_SCOPE_ALL_CLAIMS: readonly string[] = [
  'Secteur_Activite',
  'codeGenreActivite',
  'SubjectOrganization',
  'Mode_Acces_Raison',
  'preferred_username',
  'codeCivilite',
  'given_name',
  'Acces_Regulation_Medicale',
  'UITVersion',
  'Palier_Authentification',
  'SubjectRefPro',
  'SubjectOrganizationID',
  'SubjectRole',
  'PSI_Locale',
  'otherIds',
  'SubjectNameID',
  'family_name',
  'authMode',
]
