// The plain HTTP listener of listen.httpRedirect: GET and HEAD are sent to the same path on publicUrl
// (308, never to the Host the client sent); anything else is refused, since a body sent in clear
// must not be replayed over HTTPS as if nothing happened.
import { createServer, type Server } from 'node:http'
import { PAGE_HEADERS, renderPage } from '../pages/html.js'
import { pageLanguage } from '../pages/language.js'

const TEXT = {
  fr: {
    movedTitle: 'Adresse sécurisée',
    moved: "Cette application est servie en HTTPS. Suivez le lien vers l'adresse sécurisée.",
    follow: 'Continuer en HTTPS',
    refusedTitle: 'Connexion non sécurisée refusée',
    refused:
      "Cette application n'accepte pas de données envoyées en clair (HTTP). Ouvrez-la à son adresse HTTPS et recommencez.",
    open: 'Ouvrir en HTTPS',
  },
  en: {
    movedTitle: 'Secure address',
    moved: 'This application is served over HTTPS. Follow the link to the secure address.',
    follow: 'Continue over HTTPS',
    refusedTitle: 'Insecure connection refused',
    refused: 'This application does not accept data sent in clear (HTTP). Open it at its HTTPS address and try again.',
    open: 'Open over HTTPS',
  },
}

/** `publicUrl` is the checked origin (https://host[:port], no trailing slash). */
export function createRedirectServer(publicUrl: string): Server {
  return createServer((req, res) => {
    const lang = pageLanguage(req.headers['accept-language'])
    const text = TEXT[lang]
    // Only origin-form targets keep their path: "*" and absolute-form URLs would name another host.
    const path = req.url?.startsWith('/') && !req.url.startsWith('//') ? req.url : '/'
    const location = `${publicUrl}${path}`
    const headers = { ...PAGE_HEADERS, connection: 'close' }
    if (req.method === 'GET' || req.method === 'HEAD') {
      res.writeHead(308, { ...headers, location })
      res.end(
        req.method === 'HEAD'
          ? undefined
          : renderPage({
              title: text.movedTitle,
              paragraphs: [text.moved],
              links: [{ href: location, label: text.follow }],
              lang,
            }),
      )
      return
    }
    res.writeHead(405, { ...headers, allow: 'GET, HEAD' })
    res.end(
      renderPage({
        title: text.refusedTitle,
        paragraphs: [text.refused],
        links: [{ href: `${publicUrl}/`, label: text.open }],
        lang,
      }),
    )
  })
}
