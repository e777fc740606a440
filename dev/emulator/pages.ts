// HTML of the emulator's own pages. Everything interpolated goes through escapeHtml.

import { professionLabel } from '../../src/psc/professions.js'
import type { Practitioner } from './practitioners.js'

export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1b1b35}
h1{font-size:1.4rem}.note{color:#555}button{display:block;width:100%;text-align:left;margin:.4rem 0;padding:.6rem .8rem;
border:1px solid #b5b5d8;border-radius:6px;background:#f5f5fe;cursor:pointer;font:inherit}button:hover{background:#e3e3fd}
.meta{color:#555;font-size:.9em}`

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>`
}

export function loginPage(opts: { action: string; clientId: string; practitioners: Practitioner[] }): string {
  const buttons = opts.practitioners
    .map((p) => {
      const professions = p.exercices
        .map((e) =>
          e.professionCode === ''
            ? 'sans profession'
            : `${professionLabel(e.professionCode) || 'profession hors TRE_G15'} (${e.professionCode})`,
        )
        .join(', ')
      return `<button type="submit" name="practitioner" value="${escapeHtml(p.idNat)}">
  <strong>${escapeHtml(`${p.givenName} ${p.familyName}`)}</strong>
  <span class="meta">${escapeHtml(professions)} — idNat ${escapeHtml(p.idNat)} — ${escapeHtml(p.acr)} — ${escapeHtml(p.authMode)}</span>
</button>`
    })
    .join('\n')
  return page(
    'Pro Santé Connect — émulateur local',
    `<h1>Pro Santé Connect — émulateur local</h1>
<p class="note">Émulateur de test : aucune carte CPS ni e-CPS n'est demandée. Choisissez un professionnel de santé
pour vous connecter à l'application <code>${escapeHtml(opts.clientId)}</code>.</p>
<p class="note">Connexion par notification (CIBA) : les demandes arrivent sur l'<a href="/ecps">application e-CPS simulée</a>.</p>
<form method="post" action="${escapeHtml(opts.action)}">
${buttons}
</form>`,
  )
}

export function messagePage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>`)
}

/** oidc-provider's logout confirmation, made to submit itself (PSC asks no confirmation). */
export function autoLogoutPage(form: string): string {
  const autoForm = form.replace(
    '</form>',
    '<input type="hidden" name="logout" value="yes"/><noscript><button type="submit">Se déconnecter</button></noscript></form>',
  )
  return `<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>Déconnexion — Pro Santé Connect (émulateur)</title>
<script>document.addEventListener('DOMContentLoaded', function () { document.forms[0].submit() })</script>
</head>
<body>
<p>Déconnexion en cours…</p>
${autoForm}
</body>
</html>`
}

export function loggedOutPage(): string {
  return messagePage('Pro Santé Connect — émulateur local', 'Vous êtes déconnecté de Pro Santé Connect.')
}
