// The chart rendered with many value sets (every test values file, the worked example, option
// combinations): every object checked offline against the Kubernetes schemas (kubernetes-models,
// the Prometheus Operator's for ServiceMonitor and PrometheusRule; strict: an unknown field is an
// error, test/helm/unknown-fields.ts), every secret reference
// resolvable, and the rendered gateway configuration loaded by the gateway's own loader with the
// pod's environment (what `check` runs); for a few sets, the real `psc-gateway check` CLI. The
// sets include every file of the chart's ci/ folder and examples/ folder, as they are.
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { loadConfigText } from '../../src/config/load.js'
import { makeTestPki } from '../helpers/pki.js'
import { CHART, EXAMPLE, findHelm, ROOT, template, templateError, VALUES, type RenderOptions } from './helm.js'
import { podEnvironment, schemaProblem } from './render-check.js'
import { TYPESCRIPT_NODE_ARGS } from '../helpers/typescript-node.js'

const run = promisify(execFile)
const REDIS_URL = 'redis://:pw-kube-schemas-0123@redis-master.dpi.svc:6379/0'
const CLIENT_SECRET = 'ans-client-secret-kube-schemas-1234'

// The PSC client certificate settings (psc.clientAuth: tls_client_auth, psc.certificate) come
// with the production-path work; until the gateway's schema has them, the mTLS value set may only
// fail on those keys.
const gatewaySchema = JSON.parse(readFileSync(join(ROOT, 'config', 'psc-gateway.schema.json'), 'utf8')) as {
  properties: { psc: { properties: Record<string, unknown> } }
}
const gatewayKnowsCertificates = 'certificate' in gatewaySchema.properties.psc.properties

const helm = findHelm()
if (!helm) {
  t.test(
    'chart objects against the Kubernetes schemas',
    { skip: 'no helm binary: set HELM_BIN or run scripts/fetch-helm.sh' },
    async () => {},
  )
} else {
  const files = readdirSync(VALUES)
    .filter((f) => f.endsWith('.yaml') && f !== 'required.yaml')
    .sort()
  const sets: [string, RenderOptions][] = [
    ['required values only', { setString: { 'secrets.pscClientSecret': CLIENT_SECRET } }],
    [
      'examples/bas.yaml',
      { values: [EXAMPLE], setString: { 'secrets.pscClientSecret': CLIENT_SECRET, 'secrets.redisUrl': REDIS_URL } },
    ],
    ...files.map((f): [string, RenderOptions] => [
      f,
      { values: [join(VALUES, f)], setString: { 'secrets.pscClientSecret': CLIENT_SECRET } },
    ]),
    ...readdirSync(join(CHART, 'ci'))
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f): [string, RenderOptions] => [`ci/${f}`, { bare: true, values: [join(CHART, 'ci', f)] }]),
    ...readdirSync(join(CHART, 'examples'))
      .filter((f) => f.endsWith('.yaml') && f !== 'bas.yaml')
      .sort()
      .map((f): [string, RenderOptions] => [
        `examples/${f}`,
        { values: [join(CHART, 'examples', f)], setString: { 'secrets.pscClientSecret': CLIENT_SECRET } },
      ]),
    [
      'everything optional on',
      {
        values: [join(VALUES, 'options.yaml'), join(VALUES, 'monitoring.yaml'), join(VALUES, 'audit-pvc.yaml')],
        set: {
          'autoscaling.enabled': true,
          'podDisruptionBudget.enabled': true,
          'audit.persistence.accessModes[0]': 'ReadWriteMany',
        },
        setString: {
          'secrets.pscClientSecret': CLIENT_SECRET,
          'serviceAccount.annotations.team': 'dsi',
          'service.type': 'NodePort',
        },
      },
    ],
    [
      'NetworkPolicy off, no preStop, memory store',
      {
        set: { 'networkPolicy.enabled': false, preStopDelaySeconds: 0 },
        setString: { 'secrets.pscClientSecret': CLIENT_SECRET },
      },
    ],
  ]
  // The real CLI on a few of them: `check` prints OK and the route table, or refuses with file/line/key.
  const withCli = new Set([
    'required values only',
    'examples/bas.yaml',
    'sentinel.yaml',
    'audit-pvc.yaml',
    'syslog.yaml',
  ])

  t.test('every value set: valid Kubernetes objects and a configuration the gateway loads', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'psc-chart-check-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const pki = makeTestPki()
    t.teardown(() => pki.close())
    t.ok(sets.length >= 12, `${sets.length} value sets`)
    for (const [name, o] of sets) {
      const r = await template(helm, o)
      for (const obj of r.objects)
        t.equal(schemaProblem(obj), undefined, `${name}: ${obj.kind} ${obj.metadata.name} is valid`)
      const { env, missingKeys } = podEnvironment(r)
      t.same(missingKeys, [], `${name}: every key the pod reads from the chart's Secret is in it`)
      const gatewayConfigMap = r.all('ConfigMap').find((c) => c.data?.['gateway.yaml'] !== undefined)
      if (gatewayConfigMap === undefined) {
        // existingConfig: the pod mounts a ConfigMap of the operator's; nothing of ours to load.
        const existing = r
          .one('Deployment')
          .spec.template.spec.volumes.find((v: { name: string }) => v.name === 'config')
        t.ok(
          existing?.configMap?.name && existing.configMap.name !== 'gw-psc-gateway',
          `${name}: no configuration rendered, the pod mounts ${existing?.configMap?.name}`,
        )
        continue
      }
      // The certificates the chart mounts (mtls, the SIEM's in syslog.yaml) exist only in a pod:
      // the test's own, made by openssl.
      let yaml = gatewayConfigMap.data['gateway.yaml'] as string
      for (const mount of ['/etc/psc-gateway-tls', '/etc/siem-tls']) {
        yaml = yaml
          .replaceAll(`${mount}/tls.crt`, pki.clientCertFile)
          .replaceAll(`${mount}/tls.key`, pki.clientKeyFile)
          .replaceAll(`${mount}/ca.crt`, pki.caFile)
      }
      const usesCertificate = /clientAuth: tls_client_auth/.test(yaml)
      if (usesCertificate && !gatewayKnowsCertificates) {
        const err = (() => {
          try {
            loadConfigText(yaml, 'gateway.yaml', env)
            return undefined
          } catch (e) {
            return (e as Error).message
          }
        })()
        const lines = (err ?? '').split('\n').filter((l) => /gateway\.yaml/.test(l))
        t.ok(
          lines.length > 0 &&
            lines.every((l) => /psc\.(clientAuth|certificate)|psc: .*(clientAuth|certificate)|clientSecret/.test(l)),
          `${name}: only the certificate settings are unknown to this gateway yet: ${err}`,
        )
        continue
      }
      t.doesNotThrow(
        () => loadConfigText(yaml, 'gateway.yaml', env),
        `${name}: the gateway loads the rendered configuration`,
      )
      if (withCli.has(name)) {
        const file = join(dir, `${name.replace(/\W+/g, '-')}.yaml`)
        writeFileSync(file, yaml)
        const { stdout } = await run(
          process.execPath,
          [...TYPESCRIPT_NODE_ARGS, join(ROOT, 'src', 'cli.ts'), 'check', '--config', file],
          { cwd: ROOT, env: { PATH: process.env.PATH, ...env } },
        )
        t.match(
          stdout,
          new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: OK`),
          `${name}: psc-gateway check says OK`,
        )
      }
    }
  })

  t.test('the schema check catches a wrong object (the test can fail)', async (t) => {
    const r = await template(helm, { setString: { 'secrets.pscClientSecret': CLIENT_SECRET } })
    const d = structuredClone(r.one('Deployment'))
    d.spec.template.spec.containers[0].ports[0].containerPort = 'http'
    t.match(schemaProblem(d), /containerPort must be integer/)
    t.match(
      schemaProblem({ apiVersion: 'example.org/v1', kind: 'Thing', metadata: { name: 'x' } }),
      /no Kubernetes schema known/,
    )
    // Two handlers in one probe: valid for the schema, refused by the API server.
    const twoHandlers = structuredClone(r.one('Deployment'))
    twoHandlers.spec.template.spec.containers[0].livenessProbe.exec = { command: ['true'] }
    t.equal(
      schemaProblem(twoHandlers),
      'spec.template.spec.containers[0].livenessProbe: 2 handlers (httpGet, exec); a probe has exactly one',
    )
  })

  t.test('the schema check is strict: an unknown field is reported, wherever it is', async (t) => {
    const r = await template(helm, {
      values: [join(VALUES, 'monitoring.yaml')],
      setString: { 'secrets.pscClientSecret': CLIENT_SECRET },
    })
    const d = r.one('Deployment')
    t.equal(schemaProblem(d), undefined, 'the rendered Deployment is valid as it is')
    const misspelled = structuredClone(d)
    misspelled.spec.template.spec.containers[0].resurces = misspelled.spec.template.spec.containers[0].resources
    delete misspelled.spec.template.spec.containers[0].resources
    t.equal(
      schemaProblem(misspelled),
      'spec.template.spec.containers[0].resurces: unknown field (not in the Deployment schema)',
    )
    const several = structuredClone(d)
    several.spce = {}
    Object.assign(several.metadata, { label: { team: 'dsi' } })
    several.spec.template.spec.securityContext.runAsUsr = 1000
    several.spec.template.spec.containers[0].ports[0].containerPort = 'http'
    const problem = schemaProblem(several) ?? ''
    for (const field of ['spce', 'metadata.label', 'spec.template.spec.securityContext.runAsUsr'])
      t.match(problem, `${field}: unknown field`)
    t.match(problem, /containerPort must be integer/, 'a wrong type is still reported with the unknown fields')
    // Maps (labels, ConfigMap data) take any key: not reported.
    const labelled = structuredClone(d)
    labelled.metadata.labels = { ...labelled.metadata.labels, 'anything.example.org/free': 'yes' }
    t.equal(schemaProblem(labelled), undefined)
    // A custom resource (the Prometheus Operator's schema) too.
    const monitor = structuredClone(r.one('ServiceMonitor'))
    t.equal(schemaProblem(monitor), undefined)
    monitor.spec.endpoints[0].intervall = '30s'
    t.equal(schemaProblem(monitor), 'spec.endpoints[0].intervall: unknown field (not in the ServiceMonitor schema)')
  })

  t.test('a misspelled value the chart passes through is caught (it used to render as valid)', async (t) => {
    // values.schema.json lets `podSecurityContext` be any object (it is Kubernetes'
    // PodSecurityContext): only the Kubernetes schema knows that `runAsUsr` is not a field.
    const r = await template(helm, {
      set: { 'podSecurityContext.runAsUsr': 1000 },
      setString: { 'secrets.pscClientSecret': CLIENT_SECRET },
    })
    t.equal(r.one('Deployment').spec.template.spec.securityContext.runAsUsr, 1000, 'helm renders it')
    t.equal(
      schemaProblem(r.one('Deployment')),
      'spec.template.spec.securityContext.runAsUsr: unknown field (not in the Deployment schema)',
    )
    // resources is now checked by the values schema itself (quantities, field names).
    t.match(await templateError(helm, { set: { 'resources.limts.memory': '512Mi' } }), /resources.*limts/)
  })

  t.test('the HTTPRoute check is strict too', async (t) => {
    const r = await template(helm, { bare: true, values: [join(CHART, 'ci', 'replicas-values.yaml')] })
    const route = structuredClone(r.one('HTTPRoute'))
    t.equal(schemaProblem(route), undefined)
    route.spec.rules[0].backendRef = route.spec.rules[0].backendRefs
    t.match(schemaProblem(route), /backendRef/)
  })
}
