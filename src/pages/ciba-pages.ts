// The pages of a login by e-CPS notification (CIBA): the choice (card or notification), the wait,
// and every way it can end. French, English when the browser prefers it. Technical details go to
// the log and the audit trail, never here.
import { escapeHtml, PAGE_HEADERS, STYLE } from './html.js'
import type { Language } from './language.js'
import { SESSION_EXPIRED } from './problems/session-problems.js'

type Lang = Language

/** Our own pages, plus the waiting page's script (same origin) and its status requests. */
export const CIBA_PAGE_HEADERS: Record<string, string> = {
  ...PAGE_HEADERS,
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  // the form's POST must carry our Origin (checked against cross-site submissions): not "no-referrer"
  'referrer-policy': 'same-origin',
}

const EXTRA_STYLE = `form.ciba label{display:block;margin:.5rem 0 .25rem}form.ciba input[type=text]{font:inherit;padding:.45rem;width:100%;box-sizing:border-box}
button{font:inherit;margin:.75rem .5rem 0 0;padding:.5rem 1rem;background:#000091;color:#fff;border:0;border-radius:4px;cursor:pointer}
button.secondary{background:#fff;color:#000091;border:1px solid #000091}.code{font-size:2.4rem;font-weight:bold;letter-spacing:.3em;text-align:center;margin:1rem 0}
.error{color:#ce0500}.notice{background:#e8edff;border-left:4px solid #000091;padding:.6rem .8rem}.or{margin:1.5rem 0 .5rem;color:#555}hr{border:0;border-top:1px solid #ddd;margin:1.5rem 0}`

function page(lang: Lang, title: string, body: string, head = ''): string {
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex">${head}<title>${escapeHtml(title)}</title><style>${STYLE}
${EXTRA_STYLE}</style></head>
<body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`
}

const p = (text: string) => `<p>${escapeHtml(text)}</p>`
const link = (href: string, label: string, secondary = false) =>
  `<a class="button"${secondary ? ' style="background:#fff;color:#000091;border:1px solid #000091"' : ''} href="${escapeHtml(href)}">${escapeHtml(label)}</a>`

const T = {
  fr: {
    loginTitle: 'Connexion',
    loginIntro: 'Connectez-vous avec Pro Santé Connect pour accéder à cette application.',
    pscButton: 'Se connecter avec Pro Santé Connect (carte CPS ou e-CPS)',
    or: 'ou, sans lecteur de carte :',
    cibaHeading: 'Recevoir une notification sur mon application e-CPS',
    idLabel: 'Votre numéro RPPS ou identifiant national',
    idHint: "Par exemple 10101010101 : tel qu'il figure sur votre carte CPS, avec ou sans espaces.",
    send: 'Recevoir la notification',
    waitTitle: 'Validez la demande sur votre application e-CPS',
    waitIntro: (service: string) =>
      `Une notification a été envoyée à votre application e-CPS : « Le service suivant : ${service} demande l'accès à votre profil ».`,
    waitCompare: 'Vérifiez que le code affiché sur votre téléphone est bien :',
    waitThen: 'Acceptez la demande sur votre téléphone : cette page continuera toute seule.',
    waitNoJs: 'Cette page se met à jour toutes les quelques secondes.',
    cancel: 'Annuler',
    retry: 'Réessayer',
    useCard: 'Utiliser ma carte CPS',
    problems: {
      denied: [
        'Demande refusée',
        "La demande de connexion a été refusée sur l'application e-CPS. Si ce n'était pas vous, prévenez le support informatique de l'établissement.",
      ],
      expired: [
        'Demande expirée',
        "La demande n'a pas été validée à temps sur l'application e-CPS. Vous pouvez en envoyer une nouvelle.",
      ],
      unknown_id: [
        'Identifiant non reconnu',
        "Pro Santé Connect ne connaît pas de professionnel avec cet identifiant, ou son application e-CPS n'est pas activée. Vérifiez le numéro saisi.",
      ],
      psc_unavailable: [
        'Service de connexion indisponible',
        'Pro Santé Connect ne répond pas pour le moment. Réessayez dans quelques instants, ou utilisez votre carte CPS.',
      ],
      failed: [
        "La connexion n'a pas abouti",
        "La connexion par l'application e-CPS n'a pas pu être terminée. Vous pouvez recommencer.",
      ],
      cancelled: ['Demande annulée', 'La demande de connexion a été annulée sur ce poste.'],
      lost: [
        'Demande introuvable',
        'Aucune demande de connexion en cours sur ce navigateur (elle a expiré, ou a été faite ailleurs). Vous pouvez en envoyer une nouvelle.',
      ],
      limited: [
        'Trop de demandes',
        'Trop de notifications ont été demandées pour ce professionnel ou depuis ce poste. Réessayez plus tard, ou utilisez votre carte CPS.',
      ],
      cooldown: [
        'Demande récemment refusée',
        "Une demande pour ce professionnel vient d'être refusée sur son application e-CPS : aucune nouvelle notification ne lui sera envoyée pendant quelques minutes.",
      ],
      pending: [
        'Demande déjà en cours',
        "Une notification attend déjà une réponse sur l'application e-CPS de ce professionnel. Répondez-y, ou attendez qu'elle expire.",
      ],
      forbidden: [
        'Requête refusée',
        "Cette demande ne provient pas de la page de connexion de l'application. Recommencez depuis l'application.",
      ],
    },
    inputProblems: {
      empty: 'Saisissez votre numéro RPPS ou votre identifiant national.',
      too_long: 'Cet identifiant est trop long.',
      invalid_characters: 'Un identifiant ne contient que des chiffres, des lettres et « / ».',
      malformed:
        "Ce n'est pas un identifiant valide : saisissez votre numéro RPPS (11 chiffres, inscrit sur votre carte CPS), votre numéro ADELI (9 chiffres) ou votre identifiant national tel quel.",
    },
    retryIn: (s: number) =>
      `Vous pourrez réessayer dans ${s <= 60 ? `${s} seconde${s > 1 ? 's' : ''}` : `${Math.ceil(s / 60)} minutes`}.`,
  },
  en: {
    loginTitle: 'Sign in',
    loginIntro: 'Sign in with Pro Santé Connect to use this application.',
    pscButton: 'Sign in with Pro Santé Connect (CPS card or e-CPS)',
    or: 'or, without a card reader:',
    cibaHeading: 'Get a notification on my e-CPS app',
    idLabel: 'Your RPPS number or national identifier',
    idHint: 'For example 10101010101, as printed on your CPS card, with or without spaces.',
    send: 'Send the notification',
    waitTitle: 'Approve the request in your e-CPS app',
    waitIntro: (service: string) =>
      `A notification was sent to your e-CPS app: “Le service suivant : ${service} demande l'accès à votre profil”.`,
    waitCompare: 'Check that the code shown on your phone is:',
    waitThen: 'Accept the request on your phone: this page will carry on by itself.',
    waitNoJs: 'This page refreshes every few seconds.',
    cancel: 'Cancel',
    retry: 'Try again',
    useCard: 'Use my CPS card',
    problems: {
      denied: [
        'Request refused',
        "The sign-in request was refused in the e-CPS app. If it was not you, tell the hospital's IT support.",
      ],
      expired: ['Request expired', 'The request was not approved in time in the e-CPS app. You can send a new one.'],
      unknown_id: [
        'Identifier not recognised',
        'Pro Santé Connect knows no practitioner with this identifier, or their e-CPS app is not activated. Check the number you typed.',
      ],
      psc_unavailable: [
        'Sign-in service unavailable',
        'Pro Santé Connect is not answering at the moment. Try again shortly, or use your CPS card.',
      ],
      failed: ['Sign-in failed', 'Sign-in with the e-CPS app could not be completed. You can start again.'],
      cancelled: ['Request cancelled', 'The sign-in request was cancelled on this workstation.'],
      lost: [
        'No request found',
        'No sign-in request is waiting in this browser (it expired, or was made elsewhere). You can send a new one.',
      ],
      limited: [
        'Too many requests',
        'Too many notifications were asked for this practitioner or from this workstation. Try again later, or use your CPS card.',
      ],
      cooldown: [
        'Request recently refused',
        'A request for this practitioner was just refused in their e-CPS app: no new notification will be sent to them for a few minutes.',
      ],
      pending: [
        'Request already waiting',
        "A notification is already waiting for an answer in this practitioner's e-CPS app. Answer it, or wait until it expires.",
      ],
      forbidden: [
        'Request refused',
        "This request did not come from the application's sign-in page. Start again from the application.",
      ],
    },
    inputProblems: {
      empty: 'Type your RPPS number or national identifier.',
      too_long: 'This identifier is too long.',
      invalid_characters: 'An identifier holds only digits, letters and “/”.',
      malformed:
        'This is not a valid identifier: type your RPPS number (11 digits, printed on your CPS card), your ADELI number (9 digits) or your national identifier as it is.',
    },
    retryIn: (s: number) =>
      `You can try again in ${s <= 60 ? `${s} second${s > 1 ? 's' : ''}` : `${Math.ceil(s / 60)} minutes`}.`,
  },
} as const

export type CibaProblem = keyof (typeof T)['fr']['problems']
export type InputProblem = keyof (typeof T)['fr']['inputProblems']

export function loginChoicePage(
  lang: Lang,
  o: { pscHref?: string; action: string; rd: string; typed?: string; problem?: InputProblem; sessionExpired?: boolean },
): string {
  const t = T[lang]
  const notice =
    o.sessionExpired === true
      ? `<p class="notice" id="session-expired" role="status">${escapeHtml(SESSION_EXPIRED[lang])}</p>`
      : ''
  const psc =
    o.pscHref === undefined
      ? ''
      : `${p(t.loginIntro)}<p>${link(o.pscHref, t.pscButton)}</p><p class="or">${escapeHtml(t.or)}</p>`
  const error =
    o.problem === undefined
      ? ''
      : `<p class="error" id="problem" role="alert">${escapeHtml(t.inputProblems[o.problem])}</p>`
  const form = `<h2>${escapeHtml(t.cibaHeading)}</h2>${error}
<form class="ciba" method="post" action="${escapeHtml(o.action)}">
<input type="hidden" name="rd" value="${escapeHtml(o.rd)}">
<label for="loginHint">${escapeHtml(t.idLabel)}</label>
<input type="text" id="loginHint" name="loginHint" inputmode="numeric" autocomplete="username" maxlength="80" required value="${escapeHtml(o.typed ?? '')}">
<p style="color:#555;font-size:.9rem">${escapeHtml(t.idHint)}</p>
<button type="submit" id="send">${escapeHtml(t.send)}</button>
</form>`
  return page(lang, t.loginTitle, notice + psc + form)
}

export function waitingPage(
  lang: Lang,
  o: {
    serviceName: string
    bindingMessage: string
    refreshSeconds: number
    scriptSrc: string
    statusUrl: string
    cancelAction: string
  },
): string {
  const t = T[lang]
  return page(
    lang,
    t.waitTitle,
    `${p(t.waitIntro(o.serviceName))}${p(t.waitCompare)}<p class="code" id="binding-message">${escapeHtml(o.bindingMessage)}</p>${p(t.waitThen)}
<noscript>${p(t.waitNoJs)}</noscript>
<form method="post" action="${escapeHtml(o.cancelAction)}"><button class="secondary" type="submit">${escapeHtml(t.cancel)}</button></form>
<script src="${escapeHtml(o.scriptSrc)}" data-status="${escapeHtml(o.statusUrl)}"></script>`,
    // Without JavaScript the page reloads itself; with it, the script asks the status endpoint
    // instead and reloads only when there is something to show.
    `<noscript><meta http-equiv="refresh" content="${o.refreshSeconds}"></noscript>`,
  )
}

export function cibaProblemPage(
  lang: Lang,
  problem: CibaProblem,
  o: { retryHref: string; cardHref?: string; retryAfterSeconds?: number; requestId: string },
): string {
  const t = T[lang]
  const [title, text] = t.problems[problem]
  const wait = o.retryAfterSeconds === undefined ? '' : p(t.retryIn(o.retryAfterSeconds))
  const links = link(o.retryHref, t.retry) + (o.cardHref === undefined ? '' : link(o.cardHref, t.useCard, true))
  const footer = `<footer>${lang === 'fr' ? 'Référence de la requête' : 'Request reference'} : ${escapeHtml(o.requestId)}</footer>`
  return page(lang, title, `${p(text)}${wait}<p>${links}</p>${footer}`)
}

/** The waiting page's script: asks the status endpoint, reloads the page once the answer is in. */
export const WAIT_SCRIPT = `(function () {
  var me = document.currentScript, url = me && me.getAttribute('data-status');
  if (!url) return;
  function ask() {
    fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' }, cache: 'no-store' })
      .then(function (r) { return r.json() })
      .then(function (s) { if (s.state === 'pending') setTimeout(ask, 1500); else location.reload() })
      .catch(function () { setTimeout(ask, 3000) });
  }
  setTimeout(ask, 1000);
})();
`
