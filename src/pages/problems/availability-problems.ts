// The pages of a service the gateway needs that does not answer (session store, PSC, the outbound
// proxy, the audit, the application, the directory), of a stopping instance, and of an internal error.
import { type AreaTexts, OUTBOUND_PROXY, PROXY_SUPPORT, RETRY_SOON, type Texts } from './problem-text.js'

const unavailable = (frTitle: string, fr: string, enTitle: string, en: string): Texts => ({
  fr: () => ({ title: frTitle, paragraphs: [fr, RETRY_SOON.fr] }),
  en: () => ({ title: enTitle, paragraphs: [en, RETRY_SOON.en] }),
})

export const AVAILABILITY_PROBLEMS = {
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
  PSC_ERR_DIRECTORY_UNAVAILABLE: unavailable(
    "Annuaire de l'établissement indisponible",
    "Votre compte dans cette application ne peut pas être vérifié pour le moment : l'annuaire de l'établissement ne répond pas.",
    'Hospital directory unavailable',
    "Your account in this application cannot be checked at the moment: the hospital's directory does not answer.",
  ),
} satisfies AreaTexts
