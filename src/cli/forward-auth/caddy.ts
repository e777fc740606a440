// The Caddyfile site block for forward-auth (forward_auth), from the header contract.
import { BROWSER_MARK, hostPort, type ForwardAuthContract } from './contract.js'
import { header, trustedProxyNote } from './text.js'

export function caddyConfig(c: ForwardAuthContract): string {
  const gateway = hostPort(c.gateway)
  const app = c.app.protocol === 'https:' ? c.app.origin : hostPort(c.app)
  const t = '\t'
  return `${header(c, 'caddy', '#')}
${c.hostname} {
${t}# Les points d'accès de la passerelle (connexion, retour de PSC, déconnexion, jwks.json) :
${t}# transmis tels quels. ${BROWSER_MARK} dit à la passerelle que la requête vient d'un
${t}# navigateur : elle ne lui donne jamais l'assertion signée.
${t}handle ${c.prefix}/* {
${t}${t}reverse_proxy ${gateway} {
${t}${t}${t}header_up ${BROWSER_MARK} 1
${t}${t}}
${t}}

${t}handle {
${t}${t}# route : les directives s'appliquent dans l'ordre écrit.
${t}${t}route {
${t}${t}${t}# 1. Enlever toute copie envoyée par le client des en-têtes que la passerelle pose
${t}${t}${t}#    (forward_auth ne remplace que ceux que sa réponse contient).
${c.clear.map((h) => `${t}${t}${t}request_header -${h}`).join('\n')}
${c.clearPrefixes
  .flatMap((p) => (p.includes('-') ? [p, p.replaceAll('-', '_')] : [p]))
  .map((p) => `${t}${t}${t}request_header -${p}*`)
  .join('\n')}

${t}${t}${t}# 2. Demander à la passerelle ; autorisé (2xx), copier ses en-têtes sur la requête. Sa
${t}${t}${t}#    réponse les nomme tous, vides quand ils n'ont pas de valeur.
${t}${t}${t}forward_auth ${gateway} {
${t}${t}${t}${t}uri ${c.authPath}
${t}${t}${t}${t}# Caddy pose X-Forwarded-Method et X-Forwarded-Uri ; des copies du client de ceux-ci
${t}${t}${t}${t}# les contrediraient (la passerelle refuserait).
${t}${t}${t}${t}header_up -X-Original-URI
${t}${t}${t}${t}header_up -X-Original-URL
${t}${t}${t}${t}header_up -X-Original-Method
${t}${t}${t}${t}header_up -${BROWSER_MARK}
${t}${t}${t}${t}copy_headers {
${c.copy.map((h) => `${t}${t}${t}${t}${t}${h}`).join('\n')}
${t}${t}${t}${t}}
${t}${t}${t}${t}# Pas de session : vers la connexion, qui ramène le navigateur à la page demandée.
${t}${t}${t}${t}# Tout autre refus (403...) est montré tel que la passerelle l'écrit (page en français).
${t}${t}${t}${t}@psc_login status 401
${t}${t}${t}${t}handle_response @psc_login {
${t}${t}${t}${t}${t}redir {http.reverse_proxy.header.X-Auth-Request-Redirect} 302
${t}${t}${t}${t}}
${t}${t}${t}}

${t}${t}${t}# 3. L'application.
${t}${t}${t}reverse_proxy ${app}
${t}${t}}
${t}}
}
${trustedProxyNote(c, '#')}`
}
