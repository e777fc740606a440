// The nginx server block for forward-auth (auth_request), from the header contract.
import { BROWSER_MARK, variableName, type ForwardAuthContract } from './contract.js'
import { header, trustedProxyNote } from './text.js'

export function nginxConfig(c: ForwardAuthContract): string {
  const gateway = c.gateway.origin
  const app = c.app.origin + (c.app.pathname === '/' ? '' : c.app.pathname)
  const copies = c.copy.map(
    (h) => `        auth_request_set $psc_${variableName(h)} $upstream_http_${variableName(h)};`,
  )
  const sets = c.copy.map((h) => `        proxy_set_header ${h} $psc_${variableName(h)};`)
  return `${header(c, 'nginx', '#')}
server {
    listen 443 ssl;   # vos réglages TLS ici (certificat, protocoles)
    server_name ${c.hostname};
    # nginx ignore les en-têtes dont le nom contient "_" (X_Remote_User) : laisser
    # underscores_in_headers à off.

    # Les points d'accès de la passerelle (connexion, retour de PSC, déconnexion, jwks.json) :
    # transmis tels quels. ${BROWSER_MARK} dit à la passerelle que la requête vient d'un
    # navigateur : elle ne lui donne jamais l'assertion signée.
    location ${c.prefix}/ {
        proxy_pass ${gateway};
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-Host $http_host;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header ${BROWSER_MARK} 1;
    }

    # La sous-requête : sans corps, la requête d'origine décrite par des en-têtes que nginx pose
    # lui-même (ceux du client du même nom sont remplacés).
    location = /_psc_auth {
        internal;
        proxy_pass ${gateway}${c.authPath};
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_set_header X-Original-URI $request_uri;
        proxy_set_header X-Forwarded-Uri $request_uri;
        proxy_set_header X-Original-Method $request_method;
        proxy_set_header X-Forwarded-Method $request_method;
        proxy_set_header X-Original-URL "";
        proxy_set_header X-Forwarded-Host $http_host;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header ${BROWSER_MARK} "";
    }

    # L'application : chaque requête est d'abord soumise à la passerelle.
    location / {
        auth_request /_psc_auth;
        auth_request_set $psc_login $upstream_http_x_auth_request_redirect;
        auth_request_set $psc_cookie $upstream_http_set_cookie;
        # Pas de session : vers la connexion, qui ramène le navigateur à la page demandée.
        error_page 401 =302 $psc_login;
        # La passerelle prolonge la session : son cookie renouvelé va au navigateur.
        add_header Set-Cookie $psc_cookie;

        # Chaque en-tête d'identité configuré (${c.copy.length}) prend la valeur de la passerelle, ou
        # aucune : proxy_set_header remplace la copie envoyée par le client, et une valeur vide
        # l'enlève. nginx ne sait pas enlever par préfixe (${c.clearPrefixes.join(', ')}) : un en-tête
        # non configuré envoyé par le client passe ; l'application ne doit lire que ceux-ci.
${copies.join('\n')}
${sets.join('\n')}
        proxy_set_header X-Forwarded-Host $http_host;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-For $remote_addr;

        proxy_pass ${app};
    }
}
${trustedProxyNote(c, '#')}`
}
