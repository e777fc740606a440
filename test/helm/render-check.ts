// What a rendered chart must satisfy whatever the values: every object valid against the
// Kubernetes schemas (kubernetes-models, offline; strict: a field the schema does not have is an
// error, as with kubectl's strict field validation), every secretKeyRef to the chart's Secret naming a
// key it holds, and the gateway configuration loading with the environment the pod would have.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount } from 'kubernetes-models/v1'
import { Deployment } from 'kubernetes-models/apps/v1'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2'
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1'
import type { K8sObject, Rendered } from './helm.js'
import { unknownFields } from './unknown-fields.js'
import { HTTPRoute } from './gateway-api-schema.js'
import { generateKeyPairSync } from 'node:crypto'

type Model = { prototype: { validate(this: unknown): void } }
const MODELS: Record<string, Model> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
  'gateway.networking.k8s.io/v1/HTTPRoute': HTTPRoute,
}

/** a stand-in identity assertion key (PEM, Ed25519) for a Secret the chart does not render */
const STAND_IN_ASSERTION_KEY = generateKeyPairSync('ed25519').privateKey.export({
  type: 'pkcs8',
  format: 'pem',
}) as string

/** undefined when valid; else what the schema says is wrong (a wrong type, an unknown field) */
export function schemaProblem(o: K8sObject): string | undefined {
  const Model = MODELS[`${o.apiVersion}/${o.kind}`]
  if (!Model) return `no Kubernetes schema known for ${o.apiVersion} ${o.kind}`
  // The model's validate on the object itself (a model instance would be a copy, read whole).
  const { unknown, error } = unknownFields(o, (watched) => Model.prototype.validate.call(watched))
  const problems = [
    ...(error === undefined ? [] : [error]),
    ...unknown.map((f) => `${f}: unknown field (not in the ${o.kind} schema)`),
    ...probeHandlerProblems(o),
  ]
  return problems.length === 0 ? undefined : problems.join(', ')
}

const HANDLERS = ['httpGet', 'tcpSocket', 'exec', 'grpc']

/** A probe has exactly one handler: the API server refuses two ("may not specify more than 1 handler
type"), which no JSON schema of Probe says. */
function probeHandlerProblems(o: K8sObject): string[] {
  if (o.kind !== 'Deployment') return []
  const containers = (o.spec?.template?.spec?.containers ?? []) as Record<string, Record<string, unknown> | undefined>[]
  return containers.flatMap((c, i) =>
    ['startupProbe', 'livenessProbe', 'readinessProbe'].flatMap((p) => {
      const probe = c[p]
      if (probe === undefined) return []
      const handlers = HANDLERS.filter((h) => h in probe)
      return handlers.length === 1
        ? []
        : [
            `spec.template.spec.containers[${i}].${p}: ${handlers.length} handlers (${handlers.join(', ') || 'none'}); a probe has exactly one`,
          ]
    }),
  )
}

export interface PodEnvironment {
  env: Record<string, string>
  /** secretKeyRefs to the chart-managed Secret whose key it does not hold */
  missingKeys: string[]
}

/**
 * The gateway container's environment as the kubelet would build it: literal values with $(VAR)
 * expanded, fieldRef metadata.name, keys of the rendered Secret; keys of a Secret the chart does
 * not render (existingSecret, the mTLS Secret) get a stand-in value. The audit volume is mapped
 * to a temporary folder that exists.
 */
export function podEnvironment(r: Rendered, auditMountPath = '/var/log/psc-gateway'): PodEnvironment {
  const deployment = r.one('Deployment')
  const podName = `${deployment.metadata.name}-5d9c7b6f4-x2x7q`
  const container = deployment.spec.template.spec.containers[0]
  const secrets = new Map(r.all('Secret').map((s) => [s.metadata.name, s.data as Record<string, string>]))
  const env: Record<string, string> = {}
  const missingKeys: string[] = []
  let auditDir: string | undefined
  for (const e of container.env as Array<{ name: string; value?: string; valueFrom?: Record<string, any> }>) {
    if (e.value !== undefined) {
      let v = e.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_m, name: string) => env[name] ?? '')
      if (v.startsWith(`${auditMountPath}/`)) {
        auditDir ??= mkdtempSync(join(tmpdir(), 'psc-chart-audit-'))
        v = join(auditDir, v.slice(auditMountPath.length + 1))
      }
      env[e.name] = v
    } else if (e.valueFrom?.secretKeyRef) {
      const { name, key } = e.valueFrom.secretKeyRef as { name: string; key: string }
      const data = secrets.get(name)
      if (data === undefined) {
        env[e.name] =
          e.name === 'REDIS_URL'
            ? 'redis://:stand-in-password@redis.example:6379/0'
            : e.name.startsWith('PSC_ASSERTION_KEY_')
              ? STAND_IN_ASSERTION_KEY
              : `stand-in-${key}-for-a-secret-outside-the-chart`
      } else if (!(key in data)) missingKeys.push(`${e.name}: ${name}/${key}`)
      else env[e.name] = Buffer.from(data[key]!, 'base64').toString('utf8')
    } else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') {
      env[e.name] = podName
    } else {
      throw new Error(`env ${e.name}: a source this test does not know`)
    }
  }
  return { env, missingKeys }
}
