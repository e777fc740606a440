// The few pages a practitioner sees. French first: they are read by hospital staff in France.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c)
}

export interface PageLink {
  href: string
  label: string
}

export interface PageContent {
  title: string
  /** plain text paragraphs, escaped here */
  paragraphs: string[]
  /** label → value pairs shown as a small table, escaped here */
  details?: Array<[string, string]>
  links?: PageLink[]
  requestId?: string
  /** the page's language (default French) */
  lang?: 'fr' | 'en'
}

export const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f3f5f8;color:#1b1f24;margin:0}
main{max-width:40rem;margin:4rem auto;background:#fff;border-radius:8px;padding:2rem 2.5rem;box-shadow:0 1px 4px #0002}
h1{font-size:1.4rem;color:#000091;margin-top:0}table{border-collapse:collapse;margin:1rem 0}
th{text-align:left;padding:.2rem 1rem .2rem 0;color:#555;font-weight:normal}td{padding:.2rem 0}
a.button{display:inline-block;margin:.5rem .5rem 0 0;padding:.5rem 1rem;background:#000091;color:#fff;border-radius:4px;text-decoration:none}
footer{margin-top:2rem;font-size:.8rem;color:#777}`

export function renderPage(page: PageContent): string {
  const details = page.details?.length
    ? `<table>${page.details.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`
    : ''
  const links = (page.links ?? [])
    .map((l) => `<a class="button" href="${escapeHtml(l.href)}">${escapeHtml(l.label)}</a>`)
    .join('')
  const lang = page.lang ?? 'fr'
  const reference = lang === 'fr' ? 'Référence de la requête' : 'Request reference'
  const footer = page.requestId
    ? `<footer>${reference}${lang === 'fr' ? ' :' : ':'} ${escapeHtml(page.requestId)}</footer>`
    : ''
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(page.title)}</title><style>${STYLE}</style></head>
<body><main><h1>${escapeHtml(page.title)}</h1>${page.paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('')}
${details}${links ? `<p>${links}</p>` : ''}${footer}</main></body></html>`
}

/** Security headers for every page the gateway itself serves. */
export const PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
}

/**
 * HSTS, sent when publicUrl is https: on the gateway's own responses and on proxied ones that do
 * not set their own (the gateway is the origin the browser sees). One year; no includeSubDomains,
 * which would bind sibling hosts the gateway knows nothing about.
 */
export const HSTS_VALUE = 'max-age=31536000'
