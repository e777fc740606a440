// The top of the pages that say where the practitioner is (the login page, the IT charter): the
// establishment's logo and name, and the service's dénomination, all from the configuration.
import type { BrandingSettings } from '../config/types.js'
import { escapeHtml } from './html.js'

export const BRANDING_STYLE = `header.branding{display:flex;align-items:center;gap:1rem;margin-bottom:1.5rem}
header.branding img{max-height:64px;max-width:160px}header.branding .establishment{color:#555;margin:0}
header.branding .service{font-size:1.1rem;font-weight:600;margin:.2rem 0 0}`

/** The header, or "" when nothing is configured; `logoHref`: where the gateway serves the logo. */
export function brandingHeader(branding: BrandingSettings, logoHref: string): string {
  const logo =
    branding.logo === undefined
      ? ''
      : `<img id="branding-logo" src="${escapeHtml(logoHref)}" alt="${escapeHtml(branding.establishment ?? '')}">`
  const establishment =
    branding.establishment === undefined
      ? ''
      : `<p class="establishment" id="branding-establishment">${escapeHtml(branding.establishment)}</p>`
  const service =
    branding.service === undefined ? '' : `<p class="service" id="branding-service">${escapeHtml(branding.service)}</p>`
  if (logo === '' && establishment === '' && service === '') return ''
  return `<header class="branding">${logo}<div>${establishment}${service}</div></header>`
}
