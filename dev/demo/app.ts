// A stand-in for a hospital's legacy application: it trusts the gateway's headers and shows them.
// GET with `Accept: application/json` (or ?format=json) echoes the request as JSON, which the
// integration tests use to see exactly what the upstream received.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RunningDemoApp {
  url: string
  server: Server
  close(): Promise<void>
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ESC[c] ?? c)

function decodeForDisplay(value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

function renderHtml(req: IncomingMessage): string {
  const pscHeaders = Object.entries(req.headers)
    .filter(([name]) => name.startsWith('x-psc-') || name.startsWith('x-remote-'))
    .map(
      ([name, value]) =>
        `<tr><th>${esc(name)}</th><td>${esc(decodeForDisplay(String(value)))}</td><td><code>${esc(String(value))}</code></td></tr>`,
    )
    .join('')
  const who = req.headers['x-psc-given-name']
    ? `${decodeForDisplay(String(req.headers['x-psc-given-name']))} ${decodeForDisplay(String(req.headers['x-psc-family-name'] ?? ''))}`
    : 'visiteur non connecté'
  return `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Application métier (démo)</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;background:#fafafa}table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}th{background:#eef}</style></head>
<body><h1>Application métier de démonstration</h1>
<p id="who">Bonjour, <strong>${esc(who)}</strong>.</p>
<p id="account">${req.headers['x-remote-user'] ? `Compte dans l'application (X-Remote-User) : <strong>${esc(decodeForDisplay(String(req.headers['x-remote-user'])))}</strong>${req.headers['x-remote-groups'] ? `, groupes : ${esc(decodeForDisplay(String(req.headers['x-remote-groups'])))}` : ''}.` : "Aucun compte de l'application reçu (X-Remote-User absent)."}</p>
<p>Chemin reçu : <code id="path">${esc(req.url ?? '')}</code></p>
<h2>En-têtes d'identité reçus de la passerelle</h2>
<table id="identity"><tr><th>En-tête</th><th>Valeur décodée</th><th>Valeur brute</th></tr>${pscHeaders || '<tr><td colspan="3">aucun</td></tr>'}</table>
<p><a href="/pharmacie/">Espace pharmacie</a> · <a href="/medecins/">Espace médecins</a> · <a href="/dpi/">DPI (compte requis)</a> · <a href="/dpi-admin/">Administration du DPI</a> · <a href="/public/">Page publique</a> · <a id="logout" href="/_psc/logout">Se déconnecter</a></p>
</body></html>`
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const wantsJson = (req.headers.accept ?? '').includes('application/json') || (req.url ?? '').includes('format=json')
    if (wantsJson) {
      const body = Buffer.concat(chunks).toString('utf8')
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
      res.end(
        JSON.stringify({ method: req.method, url: req.url, headers: req.headers, rawHeaders: req.rawHeaders, body }),
      )
      return
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(renderHtml(req))
  })
}

export async function startDemoApp(port: number, host = '127.0.0.1'): Promise<RunningDemoApp> {
  const server = createServer(handle)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
  const address = server.address() as AddressInfo
  return {
    url: `http://${host}:${address.port}`,
    server,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
