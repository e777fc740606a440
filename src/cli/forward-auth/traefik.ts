// The Traefik dynamic configuration (file provider) for forward-auth, from the header contract.
import { BROWSER_MARK, type ForwardAuthContract } from './contract.js'
import { header, trustedProxyNote } from './text.js'

export function traefikConfig(c: ForwardAuthContract): string {
  const q = (s: string) => JSON.stringify(s)
  const clear = c.clear.map((h) => `          ${q(h)}: ""`)
  return `${header(c, 'traefik', '#')}
# Routeurs : l'application avec les middlewares psc-clear puis psc-auth (dans cet ordre) ;
# PathPrefix(\`${c.prefix}/\`) vers la passerelle avec psc-browser seulement.
http:
  middlewares:
    # 1. Toute copie envoyée par le client des en-têtes que la passerelle pose est enlevée (une
    #    valeur vide supprime l'en-tête), sous les deux orthographes ("-" et "_") : forwardAuth
    #    ne remplace que ceux que la réponse de la passerelle contient.
    psc-clear:
      headers:
        customRequestHeaders:
${clear.join('\n')}
    # 2. La sous-requête : Traefik pose X-Forwarded-Method, X-Forwarded-Uri et X-Forwarded-Host
    #    lui-même (trustForwardHeader: false) ; autorisé, il copie ces en-têtes sur la requête.
    #    Sans session, la page de la passerelle (401) a le lien « Se connecter ».
    psc-auth:
      forwardAuth:
        address: ${q(`${c.gateway.origin}${c.authPath}`)}
        trustForwardHeader: false
        authResponseHeaders:
${c.copy.map((h) => `          - ${h}`).join('\n')}
    # 3. Les points d'accès de la passerelle : marqués comme venant d'un navigateur (jamais
    #    d'assertion signée).
    psc-browser:
      headers:
        customRequestHeaders:
          ${q(BROWSER_MARK)}: "1"
${trustedProxyNote(c, '#')}`
}
