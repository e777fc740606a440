// The ingress-nginx annotations for forward-auth, from the header contract.
import { BROWSER_MARK, type ForwardAuthContract } from './contract.js'
import { header, trustedProxyNote } from './text.js'

export function ingressNginxConfig(c: ForwardAuthContract): string {
  const gateway = `${c.gateway.origin}`
  const q = (s: string) => JSON.stringify(s)
  const clearPrefixes = c.clearPrefixes.map((p) => `more_clear_input_headers '${p}*';`).join(' ')
  return `${header(c, 'ingress-nginx', '#')}
# --gateway : l'adresse du Service de la passerelle vue du contrôleur, par exemple
# http://psc-gateway.psc.svc.cluster.local:8080. trustedProxies : le CIDR des pods du contrôleur.

# 1. L'Ingress de l'application : chaque requête est soumise à la passerelle.
#    auth-response-headers : ingress-nginx pose chacun de ces en-têtes avec la valeur de la
#    passerelle, vide s'il n'en a pas ; la copie du client du même nom ne passe donc jamais.
#    configuration-snippet : enlève aussi les en-têtes non configurés sous ${c.clearPrefixes.join(', ')}
#    (headers-more, inclus dans ingress-nginx ; il faut allow-snippet-annotations: "true").
---
metadata:
  annotations:
    nginx.ingress.kubernetes.io/auth-url: ${q(`${gateway}${c.authPath}`)}
    nginx.ingress.kubernetes.io/auth-signin: ${q(`${c.publicUrl}${c.prefix}/login?rd=$escaped_request_uri`)}
    nginx.ingress.kubernetes.io/auth-response-headers: ${q(c.copy.join(','))}
    nginx.ingress.kubernetes.io/configuration-snippet: ${q(clearPrefixes)}

# 2. Un second Ingress, même hôte, chemin ${c.prefix}/ vers le Service de la passerelle, sans les
#    annotations d'authentification. ${BROWSER_MARK} dit à la passerelle que la requête vient
#    d'un navigateur : elle ne lui donne jamais l'assertion signée.
---
metadata:
  annotations:
    nginx.ingress.kubernetes.io/configuration-snippet: ${q(`more_set_input_headers '${BROWSER_MARK}: 1';`)}
${trustedProxyNote(c, '#')}`
}
