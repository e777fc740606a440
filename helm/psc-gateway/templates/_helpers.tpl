{{/* Names and labels, the usual way. */}}
{{- define "psc-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "psc-gateway.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "psc-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "psc-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "psc-gateway.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "psc-gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "psc-gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "psc-gateway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "psc-gateway.secretName" -}}
{{- default (include "psc-gateway.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/* The session store type written in the configuration (memory when unset). */}}
{{- define "psc-gateway.storeType" -}}
{{- $session := default dict .Values.config.session }}
{{- $store := default dict $session.store }}
{{- default "memory" $store.type }}
{{- end }}

{{- define "psc-gateway.rotating" -}}
{{- if or .Values.secrets.sessionSecretPrevious (and .Values.secrets.existingSecret .Values.secrets.rotating) }}true{{ end }}
{{- end }}

{{/* The image reference: repository[:tag][@digest]. */}}
{{- define "psc-gateway.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* Redis URL from the Secret: when the store is redis and config does not give a URL itself.
With Sentinel the URL is optional (credentials, database): used when the Secret holds one. */}}
{{- define "psc-gateway.redisUrlFromSecret" -}}
{{- $session := default dict .Values.config.session }}
{{- $store := default dict $session.store }}
{{- if and (eq (include "psc-gateway.storeType" .) "redis") (not $store.url) }}
{{- if not $store.sentinel }}true
{{- else if or .Values.secrets.redisUrl (and .Values.secrets.existingSecret .Values.secrets.existingSecretHasRedisUrl) }}true
{{- end }}
{{- end }}
{{- end }}

{{/* The audit file: a chained file on the audit volume (audit.persistence), or config.audit.file. */}}
{{- define "psc-gateway.auditFile" -}}
{{- $audit := default dict .Values.config.audit }}
{{- if or .Values.audit.persistence.enabled $audit.file }}true{{ end }}
{{- end }}

{{- define "psc-gateway.mtlsPassword" -}}
{{- if and .Values.mtls.enabled .Values.mtls.passwordKey }}true{{ end }}
{{- end }}

{{/* The Secret is needed for the PSC client secret unless PSC authenticates the gateway by certificate. */}}
{{- define "psc-gateway.usesClientSecret" -}}
{{- $psc := default dict .Values.config.psc }}
{{- if and (not .Values.mtls.enabled) (ne (toString $psc.clientAuth) "tls_client_auth") }}true{{ end }}
{{- end }}

{{/*
Checks that fail the install with a message instead of rendering something that cannot work or
that would leak a secret into a ConfigMap.
*/}}
{{- define "psc-gateway.validate" -}}
{{- if not .Values.config.publicUrl }}
{{- fail "psc-gateway: config.publicUrl is required: the origin browsers use, e.g. https://dpi.hopital.fr (PSC redirects to <publicUrl>/_psc/callback, registered at ANS)" }}
{{- end }}
{{- $store := include "psc-gateway.storeType" . }}
{{- if and (ne $store "redis") (or (gt (int .Values.replicaCount) 1) .Values.autoscaling.enabled) }}
{{- fail (printf "psc-gateway: replicaCount %d / autoscaling.enabled %v need a shared session store: set config.session.store.type: redis (and secrets.redisUrl). With the memory store each replica knows only its own sessions." (int .Values.replicaCount) .Values.autoscaling.enabled) }}
{{- end }}
{{- $ref := "^\\$\\{(file:/[^}]+|[A-Za-z_][A-Za-z0-9_]*)\\}$" }}
{{- $psc := default dict .Values.config.psc }}
{{- if and (hasKey $psc "clientSecret") (not (regexMatch $ref (toString $psc.clientSecret))) }}
{{- fail "psc-gateway: config.psc.clientSecret must not be written in values (it would land in a ConfigMap): set secrets.pscClientSecret or secrets.existingSecret, and leave config.psc.clientSecret out" }}
{{- end }}
{{- $session := default dict .Values.config.session }}
{{- range (default list $session.secrets) }}
{{- if not (regexMatch $ref (toString .)) }}
{{- fail "psc-gateway: config.session.secrets must not be written in values (it would land in a ConfigMap): set secrets.sessionSecret or secrets.existingSecret, and leave config.session.secrets out" }}
{{- end }}
{{- end }}
{{- $audit := default dict .Values.config.audit }}
{{- if and (hasKey $audit "hmacKey") (not (regexMatch $ref (toString $audit.hmacKey))) }}
{{- fail "psc-gateway: config.audit.hmacKey must not be written in values (it would land in a ConfigMap, readable with the view role, and anyone could forge the audit trail): set secrets.auditHmacKey or secrets.existingSecret, and leave config.audit.hmacKey out" }}
{{- end }}
{{- if not .Values.secrets.existingSecret }}
{{- range $key := list "sessionSecret" "sessionSecretPrevious" "auditHmacKey" }}
{{- $v := toString (index $.Values.secrets $key) }}
{{- if and $v (lt (len $v) 32) }}
{{- fail (printf "psc-gateway: secrets.%s is %d characters long; it must be at least 32 (openssl rand -base64 48)" $key (len $v)) }}
{{- end }}
{{- end }}
{{- if not .Values.secrets.sessionSecret }}
{{- fail "psc-gateway: secrets.sessionSecret is empty: set it (at least 32 characters: --set-string secrets.sessionSecret=\"$(openssl rand -base64 48)\") or use secrets.existingSecret. The chart does not generate it: a secret made at render time would change at every helm template (Argo CD, Flux) and replicas would sign cookies with different keys." }}
{{- end }}
{{- if and (include "psc-gateway.auditFile" .) (not .Values.secrets.auditHmacKey) }}
{{- fail "psc-gateway: the audit file needs its HMAC key: set secrets.auditHmacKey (at least 32 characters: openssl rand -base64 48) or secrets.existingSecret" }}
{{- end }}
{{- end }}
{{- $storeValues := default dict $session.store }}
{{- if and $storeValues.url (contains "@" (toString $storeValues.url)) (not (regexMatch $ref (toString $storeValues.url))) }}
{{- fail "psc-gateway: config.session.store.url carries credentials: put the URL in secrets.redisUrl (or the existing Secret) and leave config.session.store.url out" }}
{{- end }}
{{- if and (eq $store "redis") (not $storeValues.url) (not $storeValues.sentinel) (not .Values.secrets.existingSecret) (not .Values.secrets.redisUrl) }}
{{- fail "psc-gateway: config.session.store.type is redis: set secrets.redisUrl (redis://[user:password@]host:6379/0), config.session.store.sentinel, or secrets.existingSecret" }}
{{- end }}
{{- if and .Values.ingress.enabled .Values.config.publicUrl }}
{{- $host := (urlParse .Values.config.publicUrl).hostname }}
{{- if not (has $host .Values.ingress.hosts) }}
{{- fail (printf "psc-gateway: the host of config.publicUrl (%s) must be one of ingress.hosts %v: PSC redirects browsers to <publicUrl>/_psc/callback" $host .Values.ingress.hosts) }}
{{- end }}
{{- end }}
{{- if and .Values.config.trustedProxies (not (and .Values.networkPolicy.enabled .Values.networkPolicy.publicFrom)) }}
{{- fail (printf "psc-gateway: config.trustedProxies %v believes X-Forwarded-For from those addresses, but any pod there can reach the public port and forge it (the audit's client address, the login rate limit): set networkPolicy.enabled and networkPolicy.publicFrom to your ingress controller (or leave config.trustedProxies empty)" .Values.config.trustedProxies) }}
{{- end }}
{{- /* Helm merges maps with the chart defaults: a default upstream nobody routes to is a leftover. */}}
{{- $used := list }}
{{- range (default list .Values.config.routes) }}
{{- $used = append $used .upstream }}
{{- end }}
{{- range $name, $u := (default dict .Values.config.upstreams) }}
{{- if and $u (not (has $name $used)) }}
{{- fail (printf "psc-gateway: config.upstreams.%s is used by no route. Helm merges config.upstreams with the chart's default (app): name your upstream app, or set config.upstreams.%s: null" $name $name) }}
{{- end }}
{{- end }}
{{- if and .Values.mtls.enabled (not .Values.mtls.secretName) }}
{{- fail "psc-gateway: mtls.enabled needs mtls.secretName (the Secret holding the IGC Santé certificate)" }}
{{- end }}
{{- if and .Values.audit.persistence.enabled (not .Values.audit.persistence.existingClaim) (or (gt (int .Values.replicaCount) 1) .Values.autoscaling.enabled) (not (has "ReadWriteMany" .Values.audit.persistence.accessModes)) }}
{{- fail "psc-gateway: audit.persistence with more than one replica needs accessModes [ReadWriteMany] (every pod writes its own chained file on the shared volume), or use config.audit.syslog instead" }}
{{- end }}
{{- end }}

{{/*
The configuration file: values.config, with what the chart owns put in: the listeners (ports of
the pod, all interfaces) and the secrets as ${VAR} references to the container's environment.
*/}}
{{- define "psc-gateway.configYaml" -}}
{{- $config := deepCopy .Values.config }}
{{- $_ := set $config "listen" (dict "host" "0.0.0.0" "port" (int .Values.ports.http)) }}
{{- $_ := set $config "admin" (dict "enabled" true "host" "0.0.0.0" "port" (int .Values.ports.admin)) }}
{{- $psc := default dict $config.psc }}
{{- if .Values.mtls.enabled }}
{{- $_ := set $psc "clientAuth" "tls_client_auth" }}
{{- $m := .Values.mtls }}
{{- $cert := dict }}
{{- if eq $m.format "pkcs12" }}
{{- $_ := set $cert "pkcs12" (printf "%s/%s" $m.mountPath $m.pkcs12Key) }}
{{- else }}
{{- $_ := set $cert "cert" (printf "%s/%s" $m.mountPath $m.certKey) }}
{{- $_ := set $cert "key" (printf "%s/%s" $m.mountPath $m.keyKey) }}
{{- end }}
{{- if $m.passwordKey }}
{{- $_ := set $cert "password" "${PSC_CERTIFICATE_PASSWORD}" }}
{{- end }}
{{- $_ := set $psc "certificate" $cert }}
{{- else if not (hasKey $psc "clientSecret") }}
{{- $_ := set $psc "clientSecret" "${PSC_CLIENT_SECRET}" }}
{{- end }}
{{- $_ := set $config "psc" $psc }}
{{- $session := default dict $config.session }}
{{- $secrets := list "${SESSION_SECRET}" }}
{{- if include "psc-gateway.rotating" . }}
{{- $secrets = append $secrets "${SESSION_SECRET_PREVIOUS}" }}
{{- end }}
{{- if not (hasKey $session "secrets") }}
{{- $_ := set $session "secrets" $secrets }}
{{- end }}
{{- if include "psc-gateway.redisUrlFromSecret" . }}
{{- $store := default dict $session.store }}
{{- $_ := set $store "url" "${REDIS_URL}" }}
{{- $_ := set $session "store" $store }}
{{- end }}
{{- $_ := set $config "session" $session }}
{{- if include "psc-gateway.auditFile" . }}
{{- $audit := default dict $config.audit }}
{{- if and .Values.audit.persistence.enabled (not $audit.file) }}
{{- $_ := set $audit "file" "${AUDIT_FILE}" }}
{{- end }}
{{- if not (hasKey $audit "hmacKey") }}
{{- $_ := set $audit "hmacKey" "${AUDIT_HMAC_KEY}" }}
{{- end }}
{{- $_ := set $config "audit" $audit }}
{{- end }}
{{- toYaml $config }}
{{- end }}
