// TRE_G15-ProfessionSante (codeProfession), embedded so that psc/ does no I/O.
// Codes outside this table (psychologue 93, ostéopathe 71... live in TRE_R95) have no label here:
// their label is "" (the code still travels; X-PSC-Profession is then not sent, rather than an
// English word the application would show to French staff).

export const PROFESSION_SYSTEM = 'TRE_G15-ProfessionSante'
export const PROFESSION_OID = '1.2.250.1.71.1.2.7'
/** OID suffix PSC puts after the profession code in SubjectRole ("10^1.2.250.1.213.1.1.5.5") */
export const SUBJECT_ROLE_OID = '1.2.250.1.213.1.1.5.5'

export const UNKNOWN_PROFESSION = ''

export const PROFESSIONS: Readonly<Record<string, string>> = Object.freeze({
  '10': 'Médecin',
  '21': 'Pharmacien',
  '26': 'Audioprothésiste',
  '28': 'Opticien-Lunetier',
  '31': 'Assistant dentaire',
  '32': 'Physicien médical',
  '35': 'Aide-soignant',
  '36': 'Ambulancier',
  '37': 'Auxiliaire de puériculture',
  '38': 'Préparateur en pharmacie hospitalière',
  '39': 'Préparateur en pharmacie',
  '40': 'Chirurgien-Dentiste',
  '50': 'Sage-Femme',
  '60': 'Infirmier',
  '69': 'Infirmier psychiatrique',
  '70': 'Masseur-Kinésithérapeute',
  '80': 'Pédicure-Podologue',
  '81': 'Orthoprothésiste',
  '82': 'Podo-Orthésiste',
  '83': 'Orthopédiste-Orthésiste',
  '84': 'Oculariste',
  '85': 'Epithésiste',
  '86': 'Technicien de laboratoire médical',
  '91': 'Orthophoniste',
  '92': 'Orthoptiste',
  '94': 'Ergothérapeute',
  '95': 'Diététicien',
  '96': 'Psychomotricien',
  '98': 'Manipulateur ERM',
})

/** Label of a TRE_G15 profession code, or "" for any other input (never throws). */
export function professionLabel(code: string): string {
  if (typeof code !== 'string' || !Object.hasOwn(PROFESSIONS, code)) return UNKNOWN_PROFESSION
  return PROFESSIONS[code] ?? UNKNOWN_PROFESSION
}
