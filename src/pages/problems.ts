// What a practitioner reads for each outcome code, in French (English by Accept-Language). A page
// says what happened and what to do, with a way on; the technical detail (which rule, what PSC
// answered) goes to the log and the audit, and on the page only when the operator asks for it.
import { definitionOf, type PscErrorCode } from '../errors.js'
import { PROFESSIONS } from '../psc/professions.js'
import type { DenialDetails } from '../policy/decide.js'
import type { PageLink } from './html.js'
import type { Language } from './language.js'

export interface Problem {
  status: number
  /** stable machine-readable code, e.g. "PSC_ERR_DENIED_PROFESSION" */
  code: PscErrorCode
  title: string
  paragraphs: string[]
  details?: Array<[string, string]>
  links?: PageLink[]
  /** extra fields for the JSON form */
  json?: Record<string, unknown>
}

/** The facts a page may use; each code reads the few it needs. */
export interface ProblemContext {
  lang: Language
  /** the gateway's login URL, with the page to come back to */
  loginHref?: string
  /** the page that was asked for (a way back, or to retry) */
  retryHref?: string
  logoutHref?: string
  denial?: DenialDetails
  /** who is logged in, for a refusal */
  who?: { displayName: string; idNat: string }
  retryAfterSeconds?: number
  limitBytes?: number
  /** technical detail, shown only when pages.showDetails is on */
  detail?: string
  /** the status of a client error whose code is generic (fastify's 405, 415, ...) */
  status?: number
  /** whom to contact about a local account (accounts.contact) */
  contact?: string
  /** the way out of a refused request (a 4xx): the application's home page, unless that was the page asked for */
  homeHref?: string
  /** the login is asked because the session timed out (idle or absolute): the page says so */
  sessionExpired?: boolean
}

interface Text {
  title: string
  paragraphs: string[]
}
type Texts = Record<Language, (c: ProblemContext) => Text>

const SUPPORT = {
  fr: "Si le problème persiste, contactez le support informatique de l'établissement avec la référence ci-dessous.",
  en: "If the problem persists, contact your hospital's IT support with the reference below.",
}
const RETRY_SOON = { fr: 'Réessayez dans quelques instants.', en: 'Try again in a few moments.' }

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
/** Said wherever a login is asked because the session timed out (the login pages read it too). */
export const SESSION_EXPIRED = {
  fr: 'Votre session a expiré (inactivité prolongée ou durée maximale atteinte) : par sécurité, vous devez vous reconnecter.',
  en: 'Your session has expired (inactive for too long, or its maximum duration reached): for safety, you must log in again.',
}
const LOGIN_FAILED_AGAIN = { fr: 'Vous pouvez recommencer la connexion.', en: 'You can start the login again.' }
const loginFailed = (fr: string, en: string): Texts => ({
  fr: () => ({ title: "La connexion n'a pas abouti", paragraphs: [fr, LOGIN_FAILED_AGAIN.fr, SUPPORT.fr] }),
  en: () => ({ title: 'The login did not complete', paragraphs: [en, LOGIN_FAILED_AGAIN.en, SUPPORT.en] }),
})
// The hospital's network, not PSC: the practitioner can do nothing but tell the IT support, who
// must not go looking at PSC's side.
const OUTBOUND_PROXY = {
  fr: "Le serveur de l'établissement ne parvient pas à joindre Pro Santé Connect : le proxy de sortie de son réseau refuse la connexion ou ne répond pas. Pro Santé Connect n'est pas en cause.",
  en: "The hospital's server cannot reach Pro Santé Connect: the outbound proxy of its network refuses the connection or does not answer. Pro Santé Connect is not at fault.",
}
const PROXY_SUPPORT = {
  fr: "Prévenez le support informatique de l'établissement (proxy de sortie vers Pro Santé Connect) avec la référence ci-dessous, puis réessayez.",
  en: "Tell your hospital's IT support (outbound proxy to Pro Santé Connect), giving the reference below, then try again.",
}
// The service's own certificate, not the practitioner's card: retrying changes nothing.
const CLIENT_CERTIFICATE = {
  fr: "Pro Santé Connect a refusé le certificat avec lequel cette application s'identifie auprès de lui. Votre carte CPS ou votre application e-CPS ne sont pas en cause.",
  en: 'Pro Santé Connect refused the certificate this application identifies itself with. Your CPS card or e-CPS app is not at fault.',
}
const CERTIFICATE_SUPPORT = {
  fr: "Prévenez le support informatique de l'établissement (certificat de la passerelle Pro Santé Connect) avec la référence ci-dessous ; réessayer ne changera rien tant que le certificat n'est pas remplacé.",
  en: "Tell your hospital's IT support (certificate of the Pro Santé Connect gateway), giving the reference below; trying again changes nothing until the certificate is replaced.",
}
const unavailable = (frTitle: string, fr: string, enTitle: string, en: string): Texts => ({
  fr: () => ({ title: frTitle, paragraphs: [fr, RETRY_SOON.fr] }),
  en: () => ({ title: enTitle, paragraphs: [en, RETRY_SOON.en] }),
})
const badRequest = (fr: string, en: string): Texts => ({
  fr: () => ({
    title: 'Requête invalide',
    paragraphs: [fr, "Vérifiez l'adresse ou repartez de la page d'accueil de l'application."],
  }),
  en: () => ({
    title: 'Invalid request',
    paragraphs: [en, "Check the address or start again from the application's home page."],
  }),
})
const sizeOf = (bytes: number | undefined, lang: Language): string =>
  bytes === undefined
    ? '?'
    : bytes >= 1024 * 1024
      ? `${Math.floor(bytes / (1024 * 1024))} ${lang === 'fr' ? 'Mio' : 'MiB'}`
      : `${bytes} ${lang === 'fr' ? 'octets' : 'bytes'}`
const waitFor = (s: number | undefined, lang: Language): string => {
  const seconds = s ?? 60
  if (seconds > 60) return `${Math.ceil(seconds / 60)} minutes`
  return lang === 'fr' ? `${seconds} seconde${seconds > 1 ? 's' : ''}` : `${seconds} second${seconds > 1 ? 's' : ''}`
}

const TEXTS: Record<PscErrorCode, Texts> = {
  PSC_ERR_INVALID_TARGET: badRequest(
    "L'adresse demandée est mal formée et a été refusée.",
    'The address asked for is malformed and was refused.',
  ),
  PSC_ERR_DOUBLE_ENCODED_TARGET: badRequest(
    "L'adresse demandée contient des caractères encodés deux fois (« %25… »), que cette application lirait autrement que la passerelle ; par sécurité, elle a été refusée.",
    'The address asked for contains characters encoded twice ("%25…"), which this application would read differently from the gateway; for safety, it was refused.',
  ),
  PSC_ERR_DUPLICATE_HOST: badRequest(
    'La requête portait plusieurs noms de serveur (en-tête Host) et a été refusée.',
    'The request carried several host names (Host header) and was refused.',
  ),
  PSC_ERR_BAD_REQUEST: badRequest(
    'La requête envoyée par votre navigateur est mal formée et a été refusée.',
    'The request your browser sent is malformed and was refused.',
  ),
  PSC_ERR_HEADERS_TOO_LARGE: badRequest(
    "La requête est trop volumineuse (trop de cookies ou d'en-têtes). Fermez le navigateur ou effacez les cookies de ce site, puis réessayez.",
    "The request is too large (too many cookies or headers). Close the browser or clear this site's cookies, then try again.",
  ),
  PSC_ERR_NO_ROUTE: {
    fr: () => ({
      title: 'Page introuvable',
      paragraphs: [
        "Aucune application n'est publiée à cette adresse. Vérifiez l'adresse, ou repartez du portail de l'établissement.",
      ],
    }),
    en: () => ({
      title: 'Page not found',
      paragraphs: [
        "No application is published at this address. Check the address, or start again from the hospital's portal.",
      ],
    }),
  },
  PSC_ERR_WEBSOCKET_DISABLED: badRequest(
    "Cette application n'accepte pas les connexions WebSocket par la passerelle.",
    'This application does not accept WebSocket connections through the gateway.',
  ),
  PSC_ERR_WRONG_HOST: badRequest(
    "Cette adresse n'est pas celle de la passerelle de connexion. Utilisez l'adresse officielle de l'application.",
    "This is not the login gateway's address. Use the application's official address.",
  ),
  PSC_ERR_PAYLOAD_TOO_LARGE: {
    fr: (c) => ({
      title: 'Envoi trop volumineux',
      paragraphs: [
        `Le contenu envoyé dépasse la taille maximale acceptée (${sizeOf(c.limitBytes, 'fr')}) et n'a pas été transmis à l'application.`,
        "Réduisez la taille du fichier, ou contactez le support informatique de l'établissement.",
      ],
    }),
    en: (c) => ({
      title: 'Upload too large',
      paragraphs: [
        `What you sent is over the maximum size accepted (${sizeOf(c.limitBytes, 'en')}) and was not passed to the application.`,
        "Make the file smaller, or contact your hospital's IT support.",
      ],
    }),
  },
  PSC_ERR_TOO_MANY_REQUESTS: {
    fr: (c) => ({
      title: 'Trop de tentatives de connexion',
      paragraphs: [
        `Trop de tentatives de connexion ont été faites depuis votre poste en peu de temps. Réessayez dans ${waitFor(c.retryAfterSeconds, 'fr')}.`,
        SUPPORT.fr,
      ],
    }),
    en: (c) => ({
      title: 'Too many login attempts',
      paragraphs: [
        `Too many logins were started from your workstation in a short time. Try again in ${waitFor(c.retryAfterSeconds, 'en')}.`,
        SUPPORT.en,
      ],
    }),
  },
  PSC_ERR_DUPLICATE_SESSION_COOKIE: {
    fr: () => ({
      title: 'Cookies de session en double',
      paragraphs: [
        "Votre navigateur a envoyé deux cookies de session pour ce site ; par sécurité, aucun n'est accepté.",
        'Effacez les cookies de ce site (ou fermez complètement le navigateur), puis reconnectez-vous.',
        SUPPORT.fr,
      ],
    }),
    en: () => ({
      title: 'Duplicate session cookies',
      paragraphs: [
        'Your browser sent two session cookies for this site; for safety, neither is accepted.',
        "Clear this site's cookies (or close the browser completely), then log in again.",
        SUPPORT.en,
      ],
    }),
  },
  PSC_ERR_LOGOUT_DUPLICATE_SESSION_COOKIE: {
    fr: () => ({
      title: 'Déconnexion impossible : cookies de session en double',
      paragraphs: [
        "Votre navigateur a envoyé deux cookies de session pour ce site ; par sécurité, aucun n'est accepté, et aucune session n'a été fermée : vous n'êtes pas déconnecté.",
        'Pour fermer votre session sur ce poste, effacez les cookies de ce site ou fermez complètement le navigateur.',
        SUPPORT.fr,
      ],
    }),
    en: () => ({
      title: 'Cannot log out: duplicate session cookies',
      paragraphs: [
        'Your browser sent two session cookies for this site; for safety, neither is accepted, and no session was closed: you are not logged out.',
        "To close your session on this computer, clear this site's cookies or close the browser completely.",
        SUPPORT.en,
      ],
    }),
  },
  PSC_ERR_CROSS_SITE: {
    fr: () => ({
      title: 'Demande refusée',
      paragraphs: [
        "Cette demande venait d'un autre site et a été refusée pour vous protéger. Si vous vouliez vous déconnecter, utilisez le bouton de l'application.",
      ],
    }),
    en: () => ({
      title: 'Request refused',
      paragraphs: [
        "This request came from another site and was refused to protect you. To log out, use the application's button.",
      ],
    }),
  },
  PSC_ERR_LOGIN_REQUIRED: {
    fr: (c) =>
      c.sessionExpired === true
        ? {
            title: 'Session expirée',
            paragraphs: [
              SESSION_EXPIRED.fr,
              'Reconnectez-vous avec Pro Santé Connect (carte CPS ou application e-CPS) pour continuer.',
            ],
          }
        : {
            title: 'Connexion requise',
            paragraphs: [
              'Connectez-vous avec Pro Santé Connect (carte CPS ou application e-CPS) pour accéder à cette page.',
            ],
          },
    en: (c) =>
      c.sessionExpired === true
        ? {
            title: 'Session expired',
            paragraphs: [SESSION_EXPIRED.en, 'Log in again with Pro Santé Connect (CPS card or e-CPS app) to go on.'],
          }
        : {
            title: 'Login required',
            paragraphs: ['Log in with Pro Santé Connect (CPS card or e-CPS app) to open this page.'],
          },
  },
  PSC_ERR_LOGIN_REQUIRED_FORM_LOST: {
    fr: () => ({
      title: 'Connexion requise : envoi non transmis',
      paragraphs: [
        "Votre session n'est pas ou plus ouverte : les informations que vous venez d'envoyer n'ont pas été transmises à l'application.",
        'Connectez-vous, puis saisissez-les et envoyez-les à nouveau.',
      ],
    }),
    en: () => ({
      title: 'Login required: nothing was sent',
      paragraphs: [
        'You are not (or no longer) logged in: what you just submitted was not passed to the application.',
        'Log in, then fill in and submit the form again.',
      ],
    }),
  },
  PSC_ERR_DENIED_IDNAT: DENIED,
  PSC_ERR_DENIED_PROFESSION: DENIED,
  PSC_ERR_DENIED_CATEGORY: DENIED,
  PSC_ERR_DENIED_SPECIALTY: DENIED,
  PSC_ERR_DENIED_NO_EXERCICE: DENIED,
  PSC_ERR_DENIED_EXERCICE: DENIED,
  PSC_ERR_STORE_UNAVAILABLE: unavailable(
    'Service momentanément indisponible',
    'Les sessions ne peuvent pas être vérifiées pour le moment.',
    'Service temporarily unavailable',
    'Sessions cannot be checked at the moment.',
  ),
  PSC_ERR_PSC_UNAVAILABLE: unavailable(
    'Service de connexion indisponible',
    "La connexion à Pro Santé Connect n'est pas possible pour le moment.",
    'Login service unavailable',
    'Logging in with Pro Santé Connect is not possible at the moment.',
  ),
  PSC_ERR_OUTBOUND_PROXY_UNAVAILABLE: {
    fr: () => ({
      title: "Connexion impossible depuis l'établissement",
      paragraphs: [OUTBOUND_PROXY.fr, PROXY_SUPPORT.fr],
    }),
    en: () => ({
      title: "Login impossible from the hospital's network",
      paragraphs: [OUTBOUND_PROXY.en, PROXY_SUPPORT.en],
    }),
  },
  PSC_ERR_TOKEN_NOT_RENEWED: unavailable(
    'Service de connexion indisponible',
    "Votre session est conservée, mais Pro Santé Connect n'a pas pu confirmer vos droits pour cette application.",
    'Login service unavailable',
    'Your session is kept, but Pro Santé Connect could not confirm your rights for this application.',
  ),
  PSC_ERR_SHUTTING_DOWN: unavailable(
    'Service en cours de redémarrage',
    "Cette instance de la passerelle s'arrête ; une autre instance vous répondra.",
    'Service restarting',
    'This instance of the gateway is stopping; another one will answer.',
  ),
  PSC_ERR_AUDIT_UNAVAILABLE: unavailable(
    'Service momentanément indisponible',
    'La passerelle ne peut pas enregistrer la trace des accès pour le moment ; par sécurité, elle ne laisse rien passer sans trace.',
    'Service temporarily unavailable',
    'The gateway cannot record the access trail at the moment; for safety, it lets nothing through without a trace.',
  ),
  PSC_ERR_UPSTREAM_UNAVAILABLE: unavailable(
    'Application indisponible',
    "L'application demandée est momentanément indisponible.",
    'Application unavailable',
    'The application is temporarily unavailable.',
  ),
  PSC_ERR_UPSTREAM_TIMEOUT: unavailable(
    "L'application ne répond pas",
    "L'application a mis trop de temps à répondre.",
    'The application does not answer',
    'The application took too long to answer.',
  ),
  PSC_ERR_INTERNAL: {
    fr: () => ({
      title: 'Erreur interne',
      paragraphs: [
        'Une erreur inattendue est survenue. Elle a été enregistrée ; réessayez ou contactez le support avec la référence ci-dessous.',
      ],
    }),
    en: () => ({
      title: 'Internal error',
      paragraphs: [
        'An unexpected error occurred. It was logged; try again or contact support with the reference below.',
      ],
    }),
  },
  PSC_ERR_CLIENT_GONE: {
    fr: () => ({
      title: 'Demande interrompue',
      paragraphs: ['La connexion a été fermée avant la réponse. Rechargez la page.'],
    }),
    en: () => ({
      title: 'Request interrupted',
      paragraphs: ['The connection was closed before the answer. Reload the page.'],
    }),
  },
  PSC_ERR_LOGIN_NO_STATE: loginFailed(
    'Le retour de Pro Santé Connect ne correspond à aucune connexion en cours.',
    'The answer from Pro Santé Connect matches no login in progress.',
  ),
  PSC_ERR_LOGIN_UNKNOWN_STATE: loginFailed(
    "Le retour de Pro Santé Connect ne correspond à aucune connexion commencée dans ce navigateur : elle a peut-être expiré, été commencée dans un autre onglet ou navigateur, ou à une autre adresse que celle de l'application.",
    "The answer from Pro Santé Connect matches no login started in this browser: it may have expired, or been started in another tab, browser, or at another address than the application's.",
  ),
  PSC_ERR_LOGIN_PSC_ERROR: loginFailed(
    'Pro Santé Connect a refusé la demande de connexion.',
    'Pro Santé Connect refused the login request.',
  ),
  PSC_ERR_LOGIN_CANCELLED: loginFailed(
    'La connexion a été annulée ou refusée sur Pro Santé Connect.',
    'The login was cancelled or refused at Pro Santé Connect.',
  ),
  PSC_ERR_LOGIN_NO_ID_TOKEN: loginFailed(
    "Pro Santé Connect n'a pas renvoyé les informations attendues.",
    'Pro Santé Connect did not return the expected information.',
  ),
  PSC_ERR_LOGIN_ACR_TOO_LOW: loginFailed(
    "Le moyen d'authentification utilisé n'offre pas le niveau de sécurité exigé par cette application. Connectez-vous avec votre carte CPS ou l'application e-CPS.",
    'The authentication means you used does not reach the security level this application requires. Log in with your CPS card or the e-CPS app.',
  ),
  PSC_ERR_LOGIN_USERINFO: loginFailed(
    "Votre profil n'a pas pu être lu auprès de Pro Santé Connect.",
    'Your profile could not be read from Pro Santé Connect.',
  ),
  PSC_ERR_LOGIN_PSC_UNREACHABLE: loginFailed(
    "Pro Santé Connect n'a pas répondu à la fin de la connexion.",
    'Pro Santé Connect did not answer at the end of the login.',
  ),
  PSC_ERR_LOGIN_OUTBOUND_PROXY: {
    fr: () => ({ title: "La connexion n'a pas abouti", paragraphs: [OUTBOUND_PROXY.fr, PROXY_SUPPORT.fr] }),
    en: () => ({ title: 'The login did not complete', paragraphs: [OUTBOUND_PROXY.en, PROXY_SUPPORT.en] }),
  },
  PSC_ERR_LOGIN_CLIENT_CERTIFICATE: {
    fr: () => ({ title: "La connexion n'a pas abouti", paragraphs: [CLIENT_CERTIFICATE.fr, CERTIFICATE_SUPPORT.fr] }),
    en: () => ({ title: 'The login did not complete', paragraphs: [CLIENT_CERTIFICATE.en, CERTIFICATE_SUPPORT.en] }),
  },
  PSC_ERR_LOGIN_STORE_UNAVAILABLE: loginFailed(
    "Vous avez bien été authentifié, mais votre session n'a pas pu être enregistrée pour le moment.",
    'You were authenticated, but your session could not be saved at the moment.',
  ),
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
  PSC_ERR_DIRECTORY_UNAVAILABLE: unavailable(
    "Annuaire de l'établissement indisponible",
    "Votre compte dans cette application ne peut pas être vérifié pour le moment : l'annuaire de l'établissement ne répond pas.",
    'Hospital directory unavailable',
    "Your account in this application cannot be checked at the moment: the hospital's directory does not answer.",
  ),
  PSC_ERR_CHARTER_REQUIRED: {
    fr: () => ({
      title: "Charte d'utilisation à accepter",
      paragraphs: [
        "Vous devez lire et accepter la charte d'utilisation du système d'information de l'établissement avant d'utiliser cette application.",
        "Ouvrez la page d'accueil de l'application dans votre navigateur : la charte vous sera présentée.",
      ],
    }),
    en: () => ({
      title: 'IT charter to accept',
      paragraphs: [
        "You must read and accept the hospital's IT charter before using this application.",
        "Open the application's home page in your browser: the charter will be shown to you.",
      ],
    }),
  },
}

const LABELS = {
  fr: {
    retry: 'Réessayer',
    back: 'Revenir à la page demandée',
    login: 'Se connecter',
    relogin: 'Se reconnecter',
    logout: 'Se déconnecter',
    home: "Page d'accueil",
    who: 'Connecté en tant que',
    detail: 'Détail technique',
  },
  en: {
    retry: 'Try again',
    back: 'Back to the page asked for',
    login: 'Log in',
    relogin: 'Log in again',
    logout: 'Log out',
    home: 'Home page',
    who: 'Logged in as',
    detail: 'Technical detail',
  },
}

function linksFor(code: PscErrorCode, status: number, c: ProblemContext): PageLink[] {
  const l = LABELS[c.lang]
  const links: PageLink[] = []
  const add = (href: string | undefined, label: string) => {
    if (href !== undefined) links.push({ href, label })
  }
  if (code.startsWith('PSC_ERR_DENIED_')) {
    links.push({ href: '/', label: l.home })
    add(c.logoutHref, l.logout)
  } else if (code.startsWith('PSC_ERR_LOGIN_REQUIRED')) {
    add(c.loginHref, l.login)
  } else if (code.startsWith('PSC_ERR_LOGIN_')) {
    add(c.loginHref, l.relogin)
    if (c.retryHref !== undefined && c.retryHref !== '/') add(c.retryHref, l.back)
  } else if (status >= 500 || status === 429) {
    add(c.retryHref, l.retry)
  } else if (status >= 400) {
    // a refused address or request (400, 404, 405...): a way back into the application
    add(c.homeHref, l.home)
  }
  return links
}

export function problemFor(code: PscErrorCode, c: ProblemContext): Problem {
  const status = c.status ?? definitionOf(code).status
  const text = TEXTS[code][c.lang](c)
  const details: Array<[string, string]> = []
  if (c.who !== undefined) details.push([LABELS[c.lang].who, `${c.who.displayName} (${c.who.idNat})`])
  if (c.detail !== undefined) details.push([LABELS[c.lang].detail, c.detail])
  const json: Record<string, unknown> = {}
  if (c.loginHref !== undefined && code.startsWith('PSC_ERR_LOGIN')) json.login = c.loginHref
  if (c.retryAfterSeconds !== undefined) json.retryAfter = c.retryAfterSeconds
  if (c.limitBytes !== undefined) json.limit = c.limitBytes
  if (c.sessionExpired === true) json.session = 'expired'
  const problem: Problem = {
    status,
    code,
    title: text.title,
    paragraphs: text.paragraphs,
    links: linksFor(code, status, c),
    json,
  }
  if (details.length > 0) problem.details = details
  return problem
}
