// The login page, when the login page is branded (branding.*): where the practitioner is (the
// establishment, its logo, the service's dénomination) and the Pro Santé Connect button, ANS's
// image when configured, else a text button with the wording of ANS's graphic charter.
import type { BrandingSettings } from '../config/types.js'
import { BRANDING_STYLE, brandingHeader } from './branding-header.js'
import { escapeHtml, STYLE } from './html.js'
import type { Language } from './language.js'
import { SESSION_EXPIRED } from './problems/session-problems.js'

/** The wording of ANS's button; French in every language, as the service's own name. */
export const PSC_BUTTON_LABEL = 'Se connecter avec Pro Santé Connect'

const T = {
  fr: {
    title: 'Connexion',
    intro: 'Connectez-vous avec votre carte CPS ou votre application e-CPS.',
    what: "Pro Santé Connect est le service d'identification des professionnels de santé de l'Agence du Numérique en Santé.",
  },
  en: {
    title: 'Log in',
    intro: 'Log in with your CPS card or your e-CPS app.',
    what: "Pro Santé Connect is the identification service of health professionals run by France's Agence du Numérique en Santé.",
  },
}

// A button in the colours of the French State's design system that ANS's kit uses: white on
// blue France, the wording on one line.
const LOGIN_STYLE = `a.psc-button{display:inline-flex;align-items:center;margin:1rem 0;padding:.75rem 1.25rem;background:#000091;color:#fff;font-weight:600;border-radius:4px;text-decoration:none}
a.psc-button:hover{background:#1212ff}a.psc-image{display:inline-block;margin:1rem 0}a.psc-image img{max-width:100%;height:auto}
.notice{background:#fff4e5;border-left:4px solid #b34000;padding:.5rem 1rem}.what{color:#555;font-size:.9rem}`

export interface LoginPageOptions {
  /** where the button goes: the gateway's login, straight to PSC */
  pscHref: string
  branding: BrandingSettings
  logoHref: string
  buttonHref: string
  sessionExpired?: boolean
}

export function loginPage(lang: Language, o: LoginPageOptions): string {
  const t = T[lang]
  const notice =
    o.sessionExpired === true
      ? `<p class="notice" id="session-expired" role="status">${escapeHtml(SESSION_EXPIRED[lang])}</p>`
      : ''
  const button =
    o.branding.pscButton === undefined
      ? `<a class="psc-button" id="psc-button" href="${escapeHtml(o.pscHref)}">${escapeHtml(PSC_BUTTON_LABEL)}</a>`
      : `<a class="psc-image" id="psc-button" href="${escapeHtml(o.pscHref)}"><img src="${escapeHtml(o.buttonHref)}" alt="${escapeHtml(PSC_BUTTON_LABEL)}"></a>`
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(titleOf(o.branding, t.title))}</title><style>${STYLE}
${BRANDING_STYLE}
${LOGIN_STYLE}</style></head>
<body><main>${brandingHeader(o.branding, o.logoHref)}<h1>${escapeHtml(t.title)}</h1>${notice}
<p>${escapeHtml(t.intro)}</p><p>${button}</p><p class="what">${escapeHtml(t.what)}</p></main></body></html>`
}

function titleOf(branding: BrandingSettings, title: string): string {
  return branding.service === undefined ? title : `${title} · ${branding.service}`
}
