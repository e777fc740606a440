// The pages of a login that did not complete: what went wrong on the way back from PSC, and whom
// to tell when it is the hospital's network or the gateway's certificate.
import { type AreaTexts, OUTBOUND_PROXY, PROXY_SUPPORT, SUPPORT, type Texts } from './problem-text.js'

const LOGIN_FAILED_AGAIN = { fr: 'Vous pouvez recommencer la connexion.', en: 'You can start the login again.' }
const loginFailed = (fr: string, en: string): Texts => ({
  fr: () => ({ title: "La connexion n'a pas abouti", paragraphs: [fr, LOGIN_FAILED_AGAIN.fr, SUPPORT.fr] }),
  en: () => ({ title: 'The login did not complete', paragraphs: [en, LOGIN_FAILED_AGAIN.en, SUPPORT.en] }),
})
// The service's own certificate, not the practitioner's card: retrying changes nothing.
const CLIENT_CERTIFICATE = {
  fr: "Pro Santé Connect a refusé le certificat avec lequel cette application s'identifie auprès de lui. Votre carte CPS ou votre application e-CPS ne sont pas en cause.",
  en: 'Pro Santé Connect refused the certificate this application identifies itself with. Your CPS card or e-CPS app is not at fault.',
}
const CERTIFICATE_SUPPORT = {
  fr: "Prévenez le support informatique de l'établissement (certificat de la passerelle Pro Santé Connect) avec la référence ci-dessous ; réessayer ne changera rien tant que le certificat n'est pas remplacé.",
  en: "Tell your hospital's IT support (certificate of the Pro Santé Connect gateway), giving the reference below; trying again changes nothing until the certificate is replaced.",
}

export const LOGIN_PROBLEMS = {
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
} satisfies AreaTexts
