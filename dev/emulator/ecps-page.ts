// The emulator's stand-in for the practitioner's phone: the e-CPS app's pending notifications
// ("Le service suivant : [Dénomination] demande l'accès à votre profil"), with the binding message
// and Accepter / Refuser buttons. Served at /ecps on the emulator's origin.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type Provider from 'oidc-provider'
import type { EcpsNotification, EmulatorCiba } from './ciba-backchannel.js'
import { escapeHtml, messagePage } from './pages.js'
import type { Practitioner } from './practitioners.js'

export const ECPS_PATH = '/ecps'
export const ECPS_TITLE = 'e-CPS — émulateur local'

const STYLE = `body{font-family:system-ui,sans-serif;max-width:26rem;margin:1rem auto;padding:0 1rem;color:#1b1b35;background:#eef0f6}
h1{font-size:1.2rem}.card{background:#fff;border-radius:12px;padding:1rem;margin:1rem 0;box-shadow:0 1px 4px #0002}
.code{font-size:2rem;font-weight:bold;letter-spacing:.2em;text-align:center;margin:.5rem 0}.meta{color:#555;font-size:.85em}
.row{display:flex;gap:.5rem}.row button{flex:1;padding:.7rem;border-radius:8px;border:0;font:inherit;cursor:pointer}
.accept{background:#18753c;color:#fff}.refuse{background:#ce0500;color:#fff}select,input{font:inherit}`

function page(body: string, refreshSeconds?: number): string {
  const refresh = refreshSeconds === undefined ? '' : `<meta http-equiv="refresh" content="${refreshSeconds}">`
  return `<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">${refresh}
<title>${ECPS_TITLE}</title><style>${STYLE}</style></head><body>
<h1>${ECPS_TITLE}</h1>
${body}
</body></html>`
}

function notificationCard(n: EcpsNotification, idNat: string | undefined): string {
  const back = idNat === undefined ? '' : `<input type="hidden" name="idNat" value="${escapeHtml(idNat)}">`
  const seconds = Math.max(0, Math.round((n.expiresAt - Date.now()) / 1000))
  return `<div class="card notification" data-auth-req-id="${escapeHtml(n.authReqId)}">
<p>Le service suivant : <strong class="service">${escapeHtml(n.serviceName)}</strong> demande l'accès à votre profil.</p>
<p class="meta">Pour : ${escapeHtml(n.practitioner)} (${escapeHtml(n.idNat)}) — canal ${escapeHtml(n.channel)} — expire dans ${seconds} s</p>
<p class="meta">Vérifiez que ce code est celui affiché sur l'écran du poste :</p>
<p class="code">${escapeHtml(n.bindingMessage)}</p>
<form method="post" action="${ECPS_PATH}/answer" class="row">
<input type="hidden" name="id" value="${escapeHtml(n.authReqId)}">${back}
<button class="accept" type="submit" name="answer" value="accept">Accepter</button>
<button class="refuse" type="submit" name="answer" value="refuse">Refuser</button>
</form></div>`
}

export function ecpsListPage(
  notifications: EcpsNotification[],
  practitioners: Practitioner[],
  idNat: string | undefined,
): string {
  const options = practitioners
    .map(
      (p) =>
        `<option value="${escapeHtml(p.idNat)}"${p.idNat === idNat ? ' selected' : ''}>${escapeHtml(`${p.givenName} ${p.familyName} (${p.idNat})`)}</option>`,
    )
    .join('')
  const chooser = `<form method="get" action="${ECPS_PATH}" class="card"><label>Téléphone de :
<select name="idNat"><option value="">tous les professionnels de test</option>${options}</select></label>
<button type="submit">Afficher</button></form>`
  const list =
    notifications.length === 0
      ? '<p class="card meta" id="empty">Aucune demande en attente. Cette page se met à jour toute seule.</p>'
      : notifications.map((n) => notificationCard(n, idNat)).join('\n')
  // Refreshes itself while it waits for a notification; not while one is shown (it is being read).
  return page(
    `<p class="meta">Émulateur de test : ces notifications arriveraient sur l'application e-CPS du téléphone.</p>${chooser}\n${list}`,
    notifications.length === 0 ? 2 : undefined,
  )
}

export async function handleEcps(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  deps: {
    provider: Provider
    ciba: EmulatorCiba
    practitioners: Practitioner[]
    readForm(req: IncomingMessage): Promise<URLSearchParams>
  },
): Promise<void> {
  const send = (status: number, html: string) => {
    res.statusCode = status
    res.setHeader('Content-Type', 'text/html; charset=utf-8')
    res.setHeader('Cache-Control', 'no-store')
    res.end(html)
  }
  if (url.pathname === ECPS_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
    const idNat = url.searchParams.get('idNat') || undefined
    return send(200, ecpsListPage(deps.ciba.pending(idNat), deps.practitioners, idNat))
  }
  if (url.pathname === `${ECPS_PATH}/answer` && req.method === 'POST') {
    const form = await deps.readForm(req)
    const id = form.get('id') ?? ''
    const answer = form.get('answer')
    if (answer !== 'accept' && answer !== 'refuse')
      return send(400, messagePage('Réponse invalide', 'Choisissez Accepter ou Refuser.'))
    let n: EcpsNotification
    try {
      n = await deps.ciba.answer(deps.provider, id, answer === 'accept')
    } catch {
      return send(404, messagePage('Demande introuvable', 'Cette demande a expiré ou a déjà reçu une réponse.'))
    }
    const back = `${ECPS_PATH}${form.get('idNat') ? `?idNat=${encodeURIComponent(form.get('idNat') ?? '')}` : ''}`
    const what = answer === 'accept' ? 'acceptée' : 'refusée'
    return send(
      200,
      page(`<div class="card" id="answered"><p>Demande de <strong>${escapeHtml(n.serviceName)}</strong> ${what}.</p>
<p><a href="${escapeHtml(back)}">Retour aux notifications</a></p></div>`),
    )
  }
  res.setHeader('Allow', url.pathname === ECPS_PATH ? 'GET' : 'POST')
  send(405, messagePage('Méthode non permise', `${req.method ?? ''} n'est pas accepté ici.`))
}
