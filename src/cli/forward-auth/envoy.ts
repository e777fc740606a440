// The Envoy HTTP filters for forward-auth (ext_authz, HTTP service, path form), from the header
// contract.
import { BROWSER_MARK, type ForwardAuthContract } from './contract.js'
import { header, trustedProxyNote } from './text.js'

export function envoyConfig(c: ForwardAuthContract): string {
  const lower = (h: string) => h.toLowerCase()
  return `${header(c, 'envoy', '#')}
# Les http_filters du HttpConnectionManager, avant envoy.filters.http.router ; le cluster
# psc_gateway mène à ${c.gateway.origin}. L'adresse d'Envoy va dans trustedProxies (sinon la
# passerelle ne donne pas l'assertion signée). La route ${c.prefix}/ vers psc_gateway désactive
# ext_authz (typed_per_filter_config: { envoy.filters.http.ext_authz: { disabled: true } }) et
# ajoute ${BROWSER_MARK}: "1" (request_headers_to_add) : jamais d'assertion à un navigateur.
http_filters:
  # 1. Toute copie envoyée par le client des en-têtes que la passerelle pose est enlevée AVANT
  #    ext_authz (le request_headers_to_remove d'une route s'appliquerait après, et enlèverait
  #    aussi ceux de la passerelle).
  - name: envoy.filters.http.header_mutation
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation
      mutations:
        request_mutations:
${c.clear.map((h) => `          - remove: ${lower(h)}`).join('\n')}
  # 2. La sous-requête : la méthode et le chemin d'origine sous ${c.authPath} ; autorisé, les
  #    en-têtes de la passerelle remplacent ceux du même nom.
  - name: envoy.filters.http.ext_authz
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
      http_service:
        server_uri: { uri: "${c.gateway.origin}", cluster: psc_gateway, timeout: 2s }
        path_prefix: ${c.authPath}
        authorization_request:
          allowed_headers:
            patterns: [{ exact: cookie }, { exact: accept }, { exact: accept-language }, { exact: sec-fetch-mode }]
        authorization_response:
          allowed_upstream_headers:
            patterns:
${c.copy.map((h) => `              - { exact: ${lower(h)} }`).join('\n')}
          allowed_client_headers:
            patterns: [{ exact: location }, { exact: set-cookie }, { exact: x-psc-error }]
${trustedProxyNote(c, '#')}`
}
