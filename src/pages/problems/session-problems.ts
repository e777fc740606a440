// The pages of a request with no usable session: a login is required (the session expired, a form
// was lost), or the browser sent two session cookies.
import { type AreaTexts, SUPPORT } from './problem-text.js'

/** Said wherever a login is asked because the session timed out (the login pages read it too). */
export const SESSION_EXPIRED = {
  fr: 'Votre session a expiré (inactivité prolongée ou durée maximale atteinte) : par sécurité, vous devez vous reconnecter.',
  en: 'Your session has expired (inactive for too long, or its maximum duration reached): for safety, you must log in again.',
}

export const SESSION_PROBLEMS = {
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
} satisfies AreaTexts
