// The HAProxy configuration for forward-auth, from the header contract. HAProxy 2.6 has no
// auth_request: the sub-request is made by a small Lua action of ours (haproxy-lua.ts) with
// core.httpclient; the configuration clears the client's copies, the action sets the gateway's.
import { BROWSER_MARK, hostPort, type ForwardAuthContract } from './contract.js'
import { header, trustedProxyNote } from './text.js'

export const LUA_PATH = '/etc/haproxy/psc-forward-auth.lua'

export function haproxyConfig(c: ForwardAuthContract): string {
  const clear = c.clear.map((h) => `    http-request del-header ${h}`)
  const prefixes = c.clearPrefixes
    .flatMap((p) => (p.includes('-') ? [p, p.replaceAll('-', '_')] : [p]))
    .map((p) => `    http-request del-header ${p} -m beg`)
  return `${header(c, 'haproxy', '#')}
# L'action Lua fait la sous-requête : psc-gateway forward-auth haproxy-lua > ${LUA_PATH}

global
    lua-load ${LUA_PATH}

frontend psc_public
    mode http
    bind :443 ssl crt /etc/haproxy/certs/   # vos réglages TLS ici
    # (une section defaults avec mode http et des timeouts est supposée)

    # 1. Toute copie envoyée par le client des en-têtes que la passerelle pose est enlevée, sous
    #    les deux orthographes ("-" et "_") et par préfixe.
${clear.join('\n')}
${prefixes.join('\n')}

    # 2. Les points d'accès de la passerelle (connexion, retour de PSC, déconnexion, jwks.json) :
    #    transmis tels quels, marqués comme venant d'un navigateur (jamais d'assertion signée).
    acl psc_endpoint path_beg ${c.prefix}/
    use_backend psc_gateway if psc_endpoint

    # 3. Tout le reste est soumis à la passerelle : autorisé, ses en-têtes sont posés sur la
    #    requête ; sans session, redirection vers la connexion ; refusé, sa page (en français).
    http-request lua.psc_forward_auth ${hostPort(c.gateway)} ${c.authPath} ${c.copy.join(',')} if !psc_endpoint
    # La passerelle prolonge la session : son cookie renouvelé va au navigateur.
    http-response add-header Set-Cookie %[var(txn.psc_set_cookie)] if { var(txn.psc_set_cookie) -m found }
    default_backend psc_app

backend psc_gateway
    mode http
    http-request set-header ${BROWSER_MARK} 1
    http-request set-header X-Forwarded-Host %[req.hdr(host)]
    http-request set-header X-Forwarded-Proto %[ssl_fc,iif(https,http)]
    http-request set-header X-Forwarded-For %[src]
    server gateway ${hostPort(c.gateway)}

backend psc_app
    mode http
    http-request set-header X-Forwarded-Host %[req.hdr(host)]
    http-request set-header X-Forwarded-Proto %[ssl_fc,iif(https,http)]
    http-request set-header X-Forwarded-For %[src]
    server app ${hostPort(c.app)}${c.app.protocol === 'https:' ? ' ssl verify required ca-file @system-ca' : ''}
${trustedProxyNote(c, '#')}`
}
