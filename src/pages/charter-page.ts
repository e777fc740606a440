// The IT charter page: the establishment's charter (its text, escaped, or a link to it) and one
// button to accept this version, posted back to the gateway with the page asked for.
import type { BrandingSettings } from '../config/types.js'
import { BRANDING_STYLE, brandingHeader } from './branding-header.js'
import { escapeHtml, PAGE_HEADERS, STYLE } from './html.js'
import type { Language } from './language.js'

const T = {
  fr: {
    title: "Charte d'utilisation du système d'information",
    intro:
      "Avant d'accéder aux applications de l'établissement, lisez la charte d'utilisation de son système d'information et acceptez-la.",
    version: (v: string) => `Version ${v}`,
    open: 'Lire la charte (nouvel onglet)',
    accept: "J'ai lu la charte et je l'accepte",
    later: 'Se déconnecter',
    again: 'Vous ne la reverrez que lorsque sa version changera.',
  },
  en: {
    title: 'IT charter',
    intro: "Before using the hospital's applications, read the charter of use of its information system and accept it.",
    version: (v: string) => `Version ${v}`,
    open: 'Read the charter (new tab)',
    accept: 'I have read the charter and accept it',
    later: 'Log out',
    again: 'You will see it again only when its version changes.',
  },
}

export const CHARTER_PAGE_HEADERS: Record<string, string> = {
  ...PAGE_HEADERS,
  // the form's POST must carry our Origin (checked against cross-site submissions): not "no-referrer"
  'referrer-policy': 'same-origin',
}

const CHARTER_STYLE = `.charter{max-height:28rem;overflow:auto;border:1px solid #dde;padding:0 1rem;margin:1rem 0;background:#fafbfc}
button{font:inherit;margin:.75rem .5rem 0 0;padding:.5rem 1rem;background:#000091;color:#fff;border:0;border-radius:4px;cursor:pointer}
.version{color:#555;font-size:.9rem}a.secondary{color:#000091}`

export interface CharterPageOptions {
  version: string
  /** the charter as safe HTML (charter-text.ts), or */
  textHtml?: string
  /** a link to it */
  url?: string
  action: string
  rd: string
  logoutHref: string
  branding: BrandingSettings
  logoHref: string
}

export function charterPage(lang: Language, o: CharterPageOptions): string {
  const t = T[lang]
  const body =
    o.textHtml !== undefined
      ? `<div class="charter" id="charter-text" lang="fr">${o.textHtml}</div>`
      : `<p><a id="charter-link" href="${escapeHtml(o.url ?? '')}" target="_blank" rel="noopener noreferrer">${escapeHtml(t.open)}</a></p>`
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(t.title)}</title><style>${STYLE}
${BRANDING_STYLE}
${CHARTER_STYLE}</style></head>
<body><main>${brandingHeader(o.branding, o.logoHref)}<h1>${escapeHtml(t.title)}</h1>
<p>${escapeHtml(t.intro)}</p><p class="version" id="charter-version">${escapeHtml(t.version(o.version))}</p>
${body}
<form method="post" action="${escapeHtml(o.action)}">
<input type="hidden" name="rd" value="${escapeHtml(o.rd)}">
<input type="hidden" name="version" value="${escapeHtml(o.version)}">
<button type="submit" id="charter-accept">${escapeHtml(t.accept)}</button>
<a class="secondary" href="${escapeHtml(o.logoutHref)}">${escapeHtml(t.later)}</a>
</form>
<p class="version">${escapeHtml(t.again)}</p></main></body></html>`
}
