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

{{- /* The standard labels on every object (and the pods); the selector keeps name and instance only
(a Deployment's selector cannot change on upgrade). customLabels come last but never replace these. */}}
{{- define "psc-gateway.labels" -}}
{{- with .Values.customLabels }}
{{- toYaml (omit . "app.kubernetes.io/name" "app.kubernetes.io/instance" "app.kubernetes.io/version" "app.kubernetes.io/component" "app.kubernetes.io/managed-by" "helm.sh/chart") }}
{{ end -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "psc-gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: gateway
app.kubernetes.io/part-of: psc-gateway
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
A probe: the chart's httpGet on the admin port, with the values' settings; a handler given in the
values (httpGet, tcpSocket, exec, grpc) replaces the chart's instead of joining it (a probe has one
handler). null or enabled: false: no probe.
*/}}
{{- define "psc-gateway.probe" -}}
{{- $p := deepCopy (default dict .probe) }}
{{- if and .probe (ne (toString (get $p "enabled")) "false") }}
{{- $p = omit $p "enabled" }}
{{- if not (or (hasKey $p "httpGet") (hasKey $p "tcpSocket") (hasKey $p "exec") (hasKey $p "grpc")) }}
{{- $_ := set $p "httpGet" (dict "path" .path "port" "admin") }}
{{- end }}
{{ .name }}:
  {{- toYaml $p | nindent 2 }}
{{- end }}
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

{{/* The next session secret, accepted (verifies) but not signing yet: phase 1 of a rotation. */}}
{{- define "psc-gateway.acceptingNext" -}}
{{- if or .Values.secrets.sessionSecretNext (and .Values.secrets.existingSecret .Values.secrets.existingSecretHasNext) }}true{{ end }}
{{- end }}

{{/* How many identity assertion keys come from a Secret (PSC_ASSERTION_KEY_0, _1, ...). */}}
{{- define "psc-gateway.assertionKeyCount" -}}
{{- if .Values.secrets.existingSecret }}{{ len .Values.secrets.existingSecretAssertionKeys }}{{ else }}{{ len .Values.secrets.assertionKeys }}{{ end }}
{{- end }}

{{/* The key in the Secret holding assertion key i. */}}
{{- define "psc-gateway.assertionKeyName" -}}
{{- if .root.Values.secrets.existingSecret }}{{ index .root.Values.secrets.existingSecretAssertionKeys .i }}{{ else }}{{ printf "%s-%d" .root.Values.secrets.keys.assertionKeyPrefix .i }}{{ end }}
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
{{- $problems := list }}
{{- if and (not .Values.config.publicUrl) (not .Values.existingConfig) }}
{{- $problems = append $problems "psc-gateway: config.publicUrl is required: the origin browsers use, e.g. https://dpi.hopital.fr (PSC redirects to <publicUrl>/_psc/callback, registered at ANS)" }}
{{- end }}
{{- $store := include "psc-gateway.storeType" . }}
{{- if and (ne $store "redis") (or (gt (int .Values.replicaCount) 1) .Values.autoscaling.enabled) }}
{{- $problems = append $problems (printf "psc-gateway: replicaCount %d / autoscaling.enabled %v need a shared session store: set config.session.store.type: redis (and secrets.redisUrl). With the memory store each replica knows only its own sessions." (int .Values.replicaCount) .Values.autoscaling.enabled) }}
{{- end }}
{{- $ref := "^\\$\\{(file:/[^}]+|[A-Za-z_][A-Za-z0-9_]*)\\}$" }}
{{- $psc := default dict .Values.config.psc }}
{{- if and (hasKey $psc "clientSecret") (not (regexMatch $ref (toString $psc.clientSecret))) }}
{{- $problems = append $problems "psc-gateway: config.psc.clientSecret must not be written in values (it would land in a ConfigMap): set secrets.pscClientSecret or secrets.existingSecret, and leave config.psc.clientSecret out" }}
{{- end }}
{{- $session := default dict .Values.config.session }}
{{- range (default list $session.secrets) }}
{{- if not (regexMatch $ref (toString .)) }}
{{- $problems = append $problems "psc-gateway: config.session.secrets must not be written in values (it would land in a ConfigMap): set secrets.sessionSecret or secrets.existingSecret, and leave config.session.secrets out" }}
{{- end }}
{{- end }}
{{- $audit := default dict .Values.config.audit }}
{{- if and (hasKey $audit "hmacKey") (not (regexMatch $ref (toString $audit.hmacKey))) }}
{{- $problems = append $problems "psc-gateway: config.audit.hmacKey must not be written in values (it would land in a ConfigMap, readable with the view role, and anyone could forge the audit trail): set secrets.auditHmacKey or secrets.existingSecret, and leave config.audit.hmacKey out" }}
{{- end }}
{{- if not .Values.secrets.existingSecret }}
{{- range $key := list "sessionSecret" "sessionSecretPrevious" "auditHmacKey" }}
{{- $v := toString (index $.Values.secrets $key) }}
{{- if and $v (lt (len $v) 32) }}
{{- $problems = append $problems (printf "psc-gateway: secrets.%s is %d characters long; it must be at least 32 (openssl rand -base64 48)" $key (len $v)) }}
{{- end }}
{{- end }}
{{- if not .Values.secrets.sessionSecret }}
{{- $problems = append $problems "psc-gateway: secrets.sessionSecret is empty: set it (at least 32 characters: --set-string secrets.sessionSecret=\"$(openssl rand -base64 48)\") or use secrets.existingSecret. The chart does not generate it: a secret made at render time would change at every helm template (Argo CD, Flux) and replicas would sign cookies with different keys." }}
{{- end }}
{{- if and (include "psc-gateway.auditFile" .) (not .Values.secrets.auditHmacKey) }}
{{- $problems = append $problems "psc-gateway: the audit file needs its HMAC key: set secrets.auditHmacKey (at least 32 characters: openssl rand -base64 48) or secrets.existingSecret" }}
{{- end }}
{{- end }}
{{- $storeValues := default dict $session.store }}
{{- if and $storeValues.url (contains "@" (toString $storeValues.url)) (not (regexMatch $ref (toString $storeValues.url))) }}
{{- $problems = append $problems "psc-gateway: config.session.store.url carries credentials: put the URL in secrets.redisUrl (or the existing Secret) and leave config.session.store.url out" }}
{{- end }}
{{- if and (eq $store "redis") (not $storeValues.url) (not $storeValues.sentinel) (not .Values.secrets.existingSecret) (not .Values.secrets.redisUrl) }}
{{- $problems = append $problems "psc-gateway: config.session.store.type is redis: set secrets.redisUrl (redis://[user:password@]host:6379/0), config.session.store.sentinel, or secrets.existingSecret" }}
{{- end }}
{{- if and .Values.ingress.enabled .Values.config.publicUrl }}
{{- $host := (urlParse .Values.config.publicUrl).hostname }}
{{- if not (has $host .Values.ingress.hosts) }}
{{- $problems = append $problems (printf "psc-gateway: the host of config.publicUrl (%s) must be one of ingress.hosts %v: PSC redirects browsers to <publicUrl>/_psc/callback" $host .Values.ingress.hosts) }}
{{- end }}
{{- end }}
{{- if and .Values.config.trustedProxies (not (and .Values.networkPolicy.enabled .Values.networkPolicy.publicFrom)) }}
{{- $problems = append $problems (printf "psc-gateway: config.trustedProxies %v believes X-Forwarded-For from those addresses, but any pod there can reach the public port and forge it (the audit's client address, the login rate limit): set networkPolicy.enabled and networkPolicy.publicFrom to your ingress controller (or leave config.trustedProxies empty)" .Values.config.trustedProxies) }}
{{- end }}
{{- /* Helm merges maps with the chart defaults: a default upstream nobody routes to is a leftover. */}}
{{- $used := list }}
{{- range (default list .Values.config.routes) }}
{{- $used = append $used .upstream }}
{{- end }}
{{- range $name, $u := (default dict .Values.config.upstreams) }}
{{- if and $u (not (has $name $used)) }}
{{- $problems = append $problems (printf "psc-gateway: config.upstreams.%s is used by no route. Helm merges config.upstreams with the chart's default (app): name your upstream app, or set config.upstreams.%s: null" $name $name) }}
{{- end }}
{{- end }}
{{- if and .Values.mtls.enabled (not .Values.mtls.secretName) }}
{{- $problems = append $problems "psc-gateway: mtls.enabled needs mtls.secretName (the Secret holding the IGC Santé certificate)" }}
{{- end }}
{{- if and .Values.audit.persistence.enabled (not .Values.audit.persistence.existingClaim) (or (gt (int .Values.replicaCount) 1) .Values.autoscaling.enabled) (not (has "ReadWriteMany" .Values.audit.persistence.accessModes)) }}
{{- $problems = append $problems "psc-gateway: audit.persistence with more than one replica needs accessModes [ReadWriteMany] (every pod writes its own chained file on the shared volume), or use config.audit.syslog instead" }}
{{- end }}
{{- $assertion := default dict .Values.config.assertion }}
{{- range (default list $assertion.keys) }}
{{- if not (regexMatch $ref (toString .)) }}
{{- $problems = append $problems "psc-gateway: config.assertion.keys must not be written in values: a private key in the ConfigMap lets anyone with the view role forge the identity assertions the upstreams trust. Put the PEM keys in secrets.assertionKeys (the chart's Secret) or name them in secrets.existingSecretAssertionKeys, and leave config.assertion.keys out" }}
{{- end }}
{{- end }}
{{- range (default list $session.acceptedSecrets) }}
{{- if not (regexMatch $ref (toString .)) }}
{{- $problems = append $problems "psc-gateway: config.session.acceptedSecrets must not be written in values (it would land in a ConfigMap): set secrets.sessionSecretNext (or secrets.existingSecretHasNext with secrets.existingSecret), and leave config.session.acceptedSecrets out" }}
{{- end }}
{{- end }}
{{- if not .Values.secrets.existingSecret }}
{{- $next := toString .Values.secrets.sessionSecretNext }}
{{- if and $next (lt (len $next) 32) }}
{{- $problems = append $problems (printf "psc-gateway: secrets.sessionSecretNext is %d characters long; it must be at least 32 (openssl rand -base64 48)" (len $next)) }}
{{- end }}
{{- if and $next (or (eq $next (toString .Values.secrets.sessionSecret)) (eq $next (toString .Values.secrets.sessionSecretPrevious))) }}
{{- $problems = append $problems "psc-gateway: secrets.sessionSecretNext is the same as secrets.sessionSecret or secrets.sessionSecretPrevious: the next secret must be a new one (docs/deployment.md, Rotating the cookie secret)" }}
{{- end }}
{{- range $i, $k := .Values.secrets.assertionKeys }}
{{- if not (contains "PRIVATE KEY" (toString $k)) }}
{{- $problems = append $problems (printf "psc-gateway: secrets.assertionKeys[%d] is not a PEM private key (-----BEGIN PRIVATE KEY-----, PKCS#8)" $i) }}
{{- end }}
{{- end }}
{{- end }}
{{- /* Kubernetes kills the container terminationGracePeriodSeconds after the preStop hook starts:
the pause, then the gateway's own delay and grace must fit, or pods are killed mid-drain. */}}
{{- $lifecycle := default dict .Values.config.lifecycle }}
{{- $delay := include "psc-gateway.seconds" (default "0s" $lifecycle.shutdownDelay) | int }}
{{- $grace := include "psc-gateway.seconds" (default "25s" $lifecycle.shutdownGrace) | int }}
{{- $pause := 0 }}
{{- if not .Values.lifecycle }}{{ $pause = int .Values.preStopDelaySeconds }}{{ end }}
{{- $needed := add $pause $delay $grace }}
{{- if lt (int .Values.terminationGracePeriodSeconds) $needed }}
{{- $problems = append $problems (printf "psc-gateway: terminationGracePeriodSeconds %d is shorter than the shutdown it must cover: preStopDelaySeconds %d + config.lifecycle.shutdownDelay %ds + config.lifecycle.shutdownGrace %ds = %ds; Kubernetes would kill pods mid-drain. Set terminationGracePeriodSeconds to at least %d" (int .Values.terminationGracePeriodSeconds) $pause $delay $grace $needed $needed) }}
{{- end }}
{{- $pdb := .Values.podDisruptionBudget }}
{{- if $pdb.enabled }}
{{- $hasMin := and (hasKey $pdb "minAvailable") (ne (toString $pdb.minAvailable) "") (ne (toString $pdb.minAvailable) "<nil>") }}
{{- $hasMax := and (hasKey $pdb "maxUnavailable") (ne (toString $pdb.maxUnavailable) "") (ne (toString $pdb.maxUnavailable) "<nil>") }}
{{- $replicas := int .Values.replicaCount }}
{{- if .Values.autoscaling.enabled }}{{ $replicas = int .Values.autoscaling.minReplicas }}{{ end }}
{{- if and $hasMin $hasMax }}
{{- $problems = append $problems "psc-gateway: podDisruptionBudget.minAvailable and podDisruptionBudget.maxUnavailable are exclusive (Kubernetes takes one): set the other to null" }}
{{- else if $hasMax }}
{{- if or (eq (toString $pdb.maxUnavailable) "0") (eq (toString $pdb.maxUnavailable) "0%") }}
{{- $problems = append $problems "psc-gateway: podDisruptionBudget.maxUnavailable 0 lets no pod be evicted: node drains (cluster upgrades) would block forever. Use 1, or minAvailable with more replicas" }}
{{- end }}
{{- else if $hasMin }}
{{- if or (eq (toString $pdb.minAvailable) "100%") (and (kindIs "float64" $pdb.minAvailable) (ge (int $pdb.minAvailable) $replicas)) (and (kindIs "int64" $pdb.minAvailable) (ge (int $pdb.minAvailable) $replicas)) (and (kindIs "int" $pdb.minAvailable) (ge (int $pdb.minAvailable) $replicas)) }}
{{- $problems = append $problems (printf "psc-gateway: podDisruptionBudget.minAvailable %v with %d replica(s) lets no pod be evicted: node drains would block forever. Keep it below the replica count (or use maxUnavailable: 1)" $pdb.minAvailable $replicas) }}
{{- end }}
{{- end }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- $problems = append $problems (printf "psc-gateway: autoscaling.minReplicas %d is above autoscaling.maxReplicas %d" (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- end }}
{{- if and .Values.autoscaling.enabled (not (or .Values.autoscaling.targetCPUUtilizationPercentage .Values.autoscaling.targetMemoryUtilizationPercentage .Values.autoscaling.metrics)) }}
{{- $problems = append $problems "psc-gateway: autoscaling.enabled needs a metric: targetCPUUtilizationPercentage, targetMemoryUtilizationPercentage or autoscaling.metrics" }}
{{- end }}
{{- range $problems }}
{{- fail . }}
{{- /* Only helm lint gets here: it logs a fail and renders on. An object whose name lint refuses
(a warning, an error with --strict) makes lint say what rendering says. */}}
apiVersion: v1
kind: ValuesProblem
metadata:
  name: {{ . | quote }}
---
{{- end }}
{{- end }}

{{/* A duration of the configuration ("500ms", "90s", "30m", "8h", "1d") in whole seconds, rounded up. */}}
{{- define "psc-gateway.seconds" -}}
{{- $text := toString . }}
{{- $n := regexFind "^[0-9]+" $text | int }}
{{- $unit := trimPrefix (regexFind "^[0-9]+" $text) $text }}
{{- if eq $unit "ms" }}{{ div (add $n 999) 1000 }}
{{- else if eq $unit "m" }}{{ mul $n 60 }}
{{- else if eq $unit "h" }}{{ mul $n 3600 }}
{{- else if eq $unit "d" }}{{ mul $n 86400 }}
{{- else }}{{ $n }}
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
{{- if and (include "psc-gateway.acceptingNext" .) (not (hasKey $session "acceptedSecrets")) }}
{{- $_ := set $session "acceptedSecrets" (list "${SESSION_SECRET_NEXT}") }}
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
{{- $assertionKeys := include "psc-gateway.assertionKeyCount" . | int }}
{{- if gt $assertionKeys 0 }}
{{- $assertion := default dict $config.assertion }}
{{- $refs := list }}
{{- range $i := until $assertionKeys }}
{{- $refs = append $refs (printf "${PSC_ASSERTION_KEY_%d}" $i) }}
{{- end }}
{{- $_ := set $assertion "keys" $refs }}
{{- $_ := set $config "assertion" $assertion }}
{{- end }}
{{- toYaml $config }}
{{- end }}
