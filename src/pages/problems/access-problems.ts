// The pages of a refused access: which rule (profession, category, specialty, exercice, structure,
// named list, group) the practitioner's profile does not meet, and the local account problems.
import { PROFESSIONS } from '../../psc/professions.js'
import type { DenialDetails } from '../../policy/decide.js'
import type { Language } from '../language.js'
import type { AreaTexts, Texts } from './problem-text.js'

const professionNames = (codes: readonly string[], lang: Language): string =>
  codes
    .map((c) =>
      c === ''
        ? lang === 'fr'
          ? 'aucune'
          : 'none'
        : (PROFESSIONS[c] ?? (lang === 'fr' ? `profession ${c}` : `profession ${c}`)),
    )
    .join(', ')
const categoryNames: Record<string, Record<Language, string>> = {
  C: { fr: 'civil', en: 'civilian' },
  M: { fr: 'agent public (militaire ou fonctionnaire)', en: 'public servant' },
  E: { fr: 'étudiant', en: 'student' },
}
const categories = (codes: readonly string[], lang: Language): string =>
  codes.map((c) => categoryNames[c]?.[lang] ?? (c || (lang === 'fr' ? 'aucune' : 'none'))).join(', ')
const codesOrNone = (codes: readonly string[], lang: Language): string =>
  codes.map((c) => c || (lang === 'fr' ? 'aucune' : 'none')).join(', ')

function denialSentences(d: DenialDetails | undefined, lang: Language): string[] {
  const fr = lang === 'fr'
  switch (d?.condition) {
    case 'profession':
      return fr
        ? [
            `Cette page est réservée aux professions suivantes : ${professionNames(d.allowed, lang)}.`,
            `Votre profil Pro Santé Connect : ${professionNames(d.held, lang)}.`,
          ]
        : [
            `This page is reserved for: ${professionNames(d.allowed, lang)}.`,
            `Your Pro Santé Connect profile: ${professionNames(d.held, lang)}.`,
          ]
    case 'category':
      return fr
        ? [
            `Cette page est réservée aux professionnels de catégorie : ${categories(d.allowed, lang)}.`,
            `Votre profil Pro Santé Connect : ${categories(d.held, lang)}.`,
          ]
        : [
            `This page is reserved for the professional category: ${categories(d.allowed, lang)}.`,
            `Your Pro Santé Connect profile: ${categories(d.held, lang)}.`,
          ]
    case 'specialty':
      return fr
        ? [
            `Cette page est réservée aux spécialités (savoir-faire) : ${d.allowed.join(', ')}.`,
            `Votre profil Pro Santé Connect : ${codesOrNone(d.held, lang)}.`,
          ]
        : [
            `This page is reserved for the specialties: ${d.allowed.join(', ')}.`,
            `Your Pro Santé Connect profile: ${codesOrNone(d.held, lang)}.`,
          ]
    case 'exercice':
      return fr
        ? ['Votre profil Pro Santé Connect ne comporte aucune activité professionnelle, et cette page en demande une.']
        : ['Your Pro Santé Connect profile has no professional activity, and this page requires one.']
    case 'exercices':
      return fr
        ? [
            'Aucune de vos activités professionnelles, prise seule, ne remplit toutes les conditions de cette page (profession, catégorie, spécialité).',
          ]
        : [
            'None of your professional activities, taken alone, meets every condition of this page (profession, category, specialty).',
          ]
    case 'structure':
      return fr
        ? [
            `Cette page est réservée aux professionnels exerçant dans l'établissement : ${d.allowed.join(', ')}.`,
            `Vos lieux d'exercice connus de Pro Santé Connect : ${codesOrNone(d.held, lang)}.`,
          ]
        : [
            `This page is reserved for professionals practising at: ${d.allowed.join(', ')}.`,
            `Your places of practice known to Pro Santé Connect: ${codesOrNone(d.held, lang)}.`,
          ]
    case 'group':
      return fr
        ? ['Votre compte dans cette application ne fait pas partie des groupes autorisés à ouvrir cette page.']
        : ['Your account in this application is not in the groups allowed to open this page.']
    case 'account':
      return [] // DENIED_NO_ACCOUNT has its own page
    default:
      return fr
        ? ['Cette page est réservée à une liste nominative de professionnels, sur laquelle vous ne figurez pas.']
        : ['This page is reserved for a named list of professionals, and you are not on it.']
  }
}

const DENIED: Texts = {
  fr: (c) => ({
    title: 'Accès refusé',
    paragraphs: [
      ...denialSentences(c.denial, 'fr'),
      "Si vous pensez devoir y accéder, contactez le support informatique de l'établissement avec la référence ci-dessous.",
    ],
  }),
  en: (c) => ({
    title: 'Access denied',
    paragraphs: [
      ...denialSentences(c.denial, 'en'),
      "If you believe you should have access, contact your hospital's IT support with the reference below.",
    ],
  }),
}
// Establishments and local accounts.
const CONTACT_DEFAULT = { fr: "le support informatique de l'établissement", en: "your hospital's IT support" }
const NO_ACCOUNT: Texts = {
  fr: (c) => ({
    title: 'Compte non ouvert',
    paragraphs: [
      `Votre compte n'est pas encore ouvert dans cette application : contactez ${c.contact ?? CONTACT_DEFAULT.fr} en indiquant votre numéro RPPS ou votre identifiant national ci-dessous.`,
      'Une fois le compte ouvert, reconnectez-vous.',
    ],
  }),
  en: (c) => ({
    title: 'Account not open',
    paragraphs: [
      `Your account in this application is not open yet: contact ${c.contact ?? CONTACT_DEFAULT.en} and give them your RPPS number or the national id below.`,
      'Once the account is open, log in again.',
    ],
  }),
}
// The directory answered, but the gateway may not use what it holds: only the account's managers can fix it.
const accountRefused = (frTitle: string, fr: string, enTitle: string, en: string): Texts => ({
  fr: (c) => ({
    title: frTitle,
    paragraphs: [
      `${fr} Contactez ${c.contact ?? CONTACT_DEFAULT.fr} en indiquant votre numéro RPPS ou votre identifiant national ci-dessous.`,
      'Une fois le compte corrigé, reconnectez-vous.',
    ],
  }),
  en: (c) => ({
    title: enTitle,
    paragraphs: [
      `${en} Contact ${c.contact ?? CONTACT_DEFAULT.en} and give them your RPPS number or the national id below.`,
      'Once the account is fixed, log in again.',
    ],
  }),
})
// A group refusal is the account's managers' business too: name them (accounts.contact).
const DENIED_GROUP: Texts = {
  fr: (c) => ({
    title: 'Accès refusé',
    paragraphs: [
      ...denialSentences(c.denial, 'fr'),
      `Si vous pensez devoir y accéder, contactez ${c.contact ?? CONTACT_DEFAULT.fr} avec la référence ci-dessous.`,
    ],
  }),
  en: (c) => ({
    title: 'Access denied',
    paragraphs: [
      ...denialSentences(c.denial, 'en'),
      `If you believe you should have access, contact ${c.contact ?? CONTACT_DEFAULT.en} with the reference below.`,
    ],
  }),
}

export const ACCESS_PROBLEMS = {
  PSC_ERR_DENIED_IDNAT: DENIED,
  PSC_ERR_DENIED_PROFESSION: DENIED,
  PSC_ERR_DENIED_CATEGORY: DENIED,
  PSC_ERR_DENIED_SPECIALTY: DENIED,
  PSC_ERR_DENIED_NO_EXERCICE: DENIED,
  PSC_ERR_DENIED_EXERCICE: DENIED,
  PSC_ERR_DENIED_STRUCTURE: DENIED,
  PSC_ERR_DENIED_GROUP: DENIED_GROUP,
  PSC_ERR_DENIED_NO_ACCOUNT: NO_ACCOUNT,
  PSC_ERR_DENIED_ACCOUNT_DUPLICATE: accountRefused(
    'Compte en double',
    "L'annuaire de l'établissement contient plusieurs comptes à votre nom pour cette application, et aucun ne peut être choisi à coup sûr.",
    'Duplicate account',
    "The hospital's directory holds several accounts in your name for this application, and none can be chosen safely.",
  ),
  PSC_ERR_DENIED_ACCOUNT_DISABLED: accountRefused(
    'Compte désactivé',
    "Votre compte dans cette application est désactivé dans l'annuaire de l'établissement.",
    'Account disabled',
    "Your account in this application is disabled in the hospital's directory.",
  ),
} satisfies AreaTexts
