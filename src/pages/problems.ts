// The texts of the pages a practitioner may meet. French, plain, and each says what to do next.
import type { Problem } from './respond.js'

export interface Who {
  displayName: string
  idNat: string
}

export function deniedProblem(routeName: string, reason: string, who: Who, logoutHref: string): Problem {
  return {
    status: 403,
    code: 'access_denied',
    title: 'Accès refusé',
    paragraphs: [
      'Votre profil Pro Santé Connect ne permet pas d\'accéder à cette page.',
      'Si vous pensez que c\'est une erreur, contactez le support informatique de l\'établissement en donnant la référence ci-dessous.'
    ],
    details: [['Connecté en tant que', `${who.displayName} (${who.idNat})`], ['Règle', routeName], ['Motif (technique)', reason]],
    links: [{ href: logoutHref, label: 'Se déconnecter' }],
    json: { route: routeName, reason }
  }
}

export function loginRequiredProblem(loginHref: string): Problem {
  return {
    status: 401,
    code: 'login_required',
    title: 'Connexion requise',
    paragraphs: ['Connectez-vous avec Pro Santé Connect pour accéder à cette page.'],
    links: [{ href: loginHref, label: 'Se connecter' }],
    json: { login: loginHref }
  }
}

export function pscUnavailableProblem(retryHref: string): Problem {
  return {
    status: 503,
    code: 'psc_unavailable',
    title: 'Service de connexion indisponible',
    paragraphs: ['Pro Santé Connect ne répond pas pour le moment. Réessayez dans quelques instants.'],
    links: [{ href: retryHref, label: 'Réessayer' }]
  }
}

export function notFoundProblem(): Problem {
  return { status: 404, code: 'not_found', title: 'Page introuvable', paragraphs: ['Aucune application n\'est publiée à cette adresse.'] }
}

export function badRequestProblem(reason: string): Problem {
  return {
    status: 400,
    code: 'bad_request',
    title: 'Requête invalide',
    paragraphs: ['L\'adresse demandée est invalide et a été refusée.'],
    details: [['Motif', reason]],
    json: { reason }
  }
}

/** Too many logins started (or callbacks) from one client address; Retry-After says when to retry. */
export function tooManyRequestsProblem(retryAfterSeconds: number): Problem {
  const wait = retryAfterSeconds <= 60 ? `${retryAfterSeconds} seconde${retryAfterSeconds > 1 ? 's' : ''}` : `${Math.ceil(retryAfterSeconds / 60)} minutes`
  return {
    status: 429,
    code: 'too_many_requests',
    title: 'Trop de tentatives de connexion',
    paragraphs: [
      `Trop de tentatives de connexion ont été faites depuis votre poste en peu de temps. Réessayez dans ${wait}.`,
      'Si le problème persiste, contactez le support informatique de l\'établissement.'
    ],
    json: { retryAfter: retryAfterSeconds }
  }
}

/**
 * A request body over its limit: limits.maxBodySize on proxied routes (a file too large to upload,
 * most of the time), fastify's bodyLimit on the gateway's own endpoints. `setting` names the first.
 */
export function payloadTooLargeProblem(limitBytes: number, setting?: string): Problem {
  const size = limitBytes >= 1024 * 1024 ? `${Math.floor(limitBytes / (1024 * 1024))} Mio` : `${limitBytes} octets`
  return {
    status: 413,
    code: 'payload_too_large',
    title: 'Envoi trop volumineux',
    paragraphs: [
      `Le contenu envoyé dépasse la taille maximale acceptée (${size}) et n'a pas été transmis à l'application.`,
      'Réduisez la taille du fichier, ou contactez le support informatique de l\'établissement.'
    ],
    details: [['Limite', setting === undefined ? `${limitBytes} octets` : `${limitBytes} octets (${setting})`]],
    json: { limit: limitBytes }
  }
}

export function upstreamProblem(status: 502 | 504, upstream: string): Problem {
  return {
    status,
    code: status === 504 ? 'upstream_timeout' : 'upstream_unavailable',
    title: status === 504 ? 'L\'application ne répond pas' : 'Application indisponible',
    paragraphs: [
      status === 504
        ? 'L\'application a mis trop de temps à répondre. Réessayez dans quelques instants.'
        : 'L\'application demandée est momentanément indisponible. Réessayez dans quelques instants.'
    ],
    details: [['Application', upstream]],
    json: { upstream }
  }
}

export function loginFailedProblem(reason: string, loginHref: string, status = 400): Problem {
  return {
    status,
    code: 'login_failed',
    title: 'La connexion n\'a pas abouti',
    paragraphs: ['La connexion avec Pro Santé Connect n\'a pas pu être terminée. Vous pouvez recommencer.'],
    details: [['Motif', reason]],
    links: [{ href: loginHref, label: 'Se reconnecter' }],
    json: { reason }
  }
}

export function internalErrorProblem(): Problem {
  return {
    status: 500,
    code: 'internal_error',
    title: 'Erreur interne',
    paragraphs: ['Une erreur inattendue est survenue. Elle a été enregistrée ; réessayez ou contactez le support avec la référence ci-dessous.']
  }
}

export function storeUnavailableProblem(): Problem {
  return {
    status: 503,
    code: 'session_store_unavailable',
    title: 'Service momentanément indisponible',
    paragraphs: ['Les sessions ne peuvent pas être vérifiées pour le moment. Réessayez dans quelques instants.']
  }
}

export function shuttingDownProblem(): Problem {
  return {
    status: 503,
    code: 'shutting_down',
    title: 'Service en cours de redémarrage',
    paragraphs: ['Cette instance de la passerelle s\'arrête. Réessayez : une autre instance vous répondra.']
  }
}
