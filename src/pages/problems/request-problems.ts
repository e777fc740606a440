// The pages of a request refused before any rule or login: a malformed address or request, no
// application at that address, too large, too many, from another site, or the client gone.
import type { Language } from '../language.js'
import { type AreaTexts, SUPPORT, type Texts } from './problem-text.js'

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

export const REQUEST_PROBLEMS = {
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
} satisfies AreaTexts
