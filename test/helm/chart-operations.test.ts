// What an ops team used to the best charts tried and found missing or wrong: assertion keys in a
// ConfigMap, probe overrides, the grace period, PDB/HPA guards, reloaders, labels, quantities,
// `helm lint` agreeing with rendering, and the usual options (existingConfig, extraObjects,
// HTTPRoute...). Each rendered by a real helm and read back.
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { parse } from 'yaml'
import { loadConfigText } from '../../src/config/load.js'
import {
  CHART,
  EXAMPLE,
  findHelm,
  lint,
  ROOT,
  template,
  templateError,
  VALUES,
  type K8sObject,
  type Rendered,
  type RenderOptions,
} from './helm.js'
import { podEnvironment, schemaProblem } from './render-check.js'

const CLIENT_SECRET = 'ans-client-secret-operations-4321'
const FULLNAME = 'gw-psc-gateway'
const CI = join(CHART, 'ci')

const helm = findHelm()
if (!helm) {
  t.fail('no helm binary: set HELM_BIN or run scripts/fetch-helm.sh')
} else {
  operations(helm)
}

const deploymentOf = (r: Rendered): K8sObject => r.one('Deployment')
const containerOf = (r: Rendered) => deploymentOf(r).spec.template.spec.containers[0]
const gatewayYaml = (r: Rendered) =>
  r.all('ConfigMap').find((c) => c.data?.['gateway.yaml'])!.data['gateway.yaml'] as string
const envOf = (r: Rendered) =>
  Object.fromEntries(
    (containerOf(r).env as { name: string; value?: string; valueFrom?: unknown }[]).map((e) => [
      e.name,
      e.value ?? e.valueFrom,
    ]),
  )

function valuesFile(t: Test, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'psc-chart-values-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'values.yaml')
  writeFileSync(file, text)
  return file
}

function operations(helm: string): void {
  const render = (o: RenderOptions = {}) =>
    template(helm, { ...o, setString: { 'secrets.pscClientSecret': CLIENT_SECRET, ...o.setString } })

  t.test('assertion keys: from the Secret only; a private key written in config is refused', async (t) => {
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
    const literal = valuesFile(
      t,
      `config:\n  assertion:\n    keys:\n      - |\n${pem
        .trimEnd()
        .split('\n')
        .map((l) => `        ${l}`)
        .join('\n')}\n`,
    )
    const err = await templateError(helm, { values: [literal] })
    t.match(
      err,
      /config\.assertion\.keys must not be written in values: a private key in the ConfigMap lets anyone with the view role forge/,
    )
    t.notOk(err.includes(pem.split('\n')[1]!), 'the error does not echo the key')

    const fromValues = valuesFile(
      t,
      `secrets:\n  assertionKeys:\n    - |\n${pem
        .trimEnd()
        .split('\n')
        .map((l) => `      ${l}`)
        .join(
          '\n',
        )}\nconfig:\n  upstreams:\n    app:\n      url: http://legacy-app.legacy.svc.cluster.local:8080\n      assertion: { audience: dpi }\n`,
    )
    const r = await render({ values: [fromValues] })
    t.notOk(JSON.stringify(r.all('ConfigMap')).includes(pem.split('\n')[1]!), 'the key is in no ConfigMap')
    t.same((parse(gatewayYaml(r)) as { assertion: unknown }).assertion, { keys: ['${PSC_ASSERTION_KEY_0}'] })
    t.same(envOf(r).PSC_ASSERTION_KEY_0, { secretKeyRef: { name: FULLNAME, key: 'assertion-key-0' } })
    t.equal(Buffer.from(r.one('Secret').data['assertion-key-0'], 'base64').toString(), pem)
    const { config } = loadConfigText(gatewayYaml(r), 'gateway.yaml', podEnvironment(r).env)
    t.equal(config.assertion.keys.length, 1, 'the gateway loads the key from the environment')

    const existing = await render({
      setString: {
        'secrets.existingSecret': 'dpi-credentials',
        'secrets.existingSecretAssertionKeys[0]': 'jwt-2026',
        'secrets.existingSecretAssertionKeys[1]': 'jwt-2025',
      },
    })
    t.same((parse(gatewayYaml(existing)) as { assertion: unknown }).assertion, {
      keys: ['${PSC_ASSERTION_KEY_0}', '${PSC_ASSERTION_KEY_1}'],
    })
    t.same(envOf(existing).PSC_ASSERTION_KEY_1, { secretKeyRef: { name: 'dpi-credentials', key: 'jwt-2025' } })
    t.match(await templateError(helm, { setString: { 'secrets.assertionKeys[0]': 'not-a-key' } }), /assertionKeys/)
  })

  t.test("rotation values: the next secret accepted, from the chart's Secret or an existing one; guards", async (t) => {
    const next = 'next-session-secret-0123456789abcdef-0001'
    const own = await render({ setString: { 'secrets.sessionSecretNext': next } })
    t.same((parse(gatewayYaml(own)) as { session: unknown }).session, {
      secrets: ['${SESSION_SECRET}'],
      acceptedSecrets: ['${SESSION_SECRET_NEXT}'],
      idleTimeout: '30m',
      absoluteTimeout: '8h',
      store: { type: 'memory' },
    })
    t.same(envOf(own).SESSION_SECRET_NEXT, { secretKeyRef: { name: FULLNAME, key: 'session-secret-next' } })
    t.equal(Buffer.from(own.one('Secret').data['session-secret-next'], 'base64').toString(), next)
    const existing = await render({
      set: { 'secrets.existingSecretHasNext': true },
      setString: { 'secrets.existingSecret': 'dpi-credentials', 'secrets.keys.sessionSecretNext': 'cookie-next' },
    })
    t.same(envOf(existing).SESSION_SECRET_NEXT, { secretKeyRef: { name: 'dpi-credentials', key: 'cookie-next' } })
    t.notOk('SESSION_SECRET_NEXT' in envOf(await render()), 'no next secret, no variable')
    t.match(
      await templateError(helm, {
        setString: { 'secrets.sessionSecretNext': 'chart-test-session-secret-0123456789abcdef' },
      }),
      /secrets\.sessionSecretNext is the same as secrets\.sessionSecret/,
    )
    t.match(
      await templateError(helm, { setString: { 'secrets.sessionSecretNext': 'short' } }),
      /secrets\.sessionSecretNext is 5 characters long/,
    )
    const err = await templateError(helm, { setString: { 'config.session.acceptedSecrets[0]': next } })
    t.match(err, /config\.session\.acceptedSecrets must not be written in values/)
    t.notOk(err.includes(next), 'the error does not echo the secret')
  })

  t.test(
    "probes: a handler of your own replaces the chart's; null or enabled: false leaves the probe out",
    async (t) => {
      const exec = await render({ setString: { 'probes.liveness.exec.command[0]': 'true' } })
      t.same(
        containerOf(exec).livenessProbe,
        { exec: { command: ['true'] }, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
        'one handler: exec, no httpGet',
      )
      t.equal(schemaProblem(deploymentOf(exec)), undefined)
      const tcp = await render({ setString: { 'probes.readiness.tcpSocket.port': 'admin' } })
      t.same(
        Object.keys(containerOf(tcp).readinessProbe).filter((k) =>
          ['httpGet', 'tcpSocket', 'exec', 'grpc'].includes(k),
        ),
        ['tcpSocket'],
      )
      const nulled = await render({ set: { 'probes.startup': 'null' } })
      t.notOk('startupProbe' in containerOf(nulled), 'probes.startup: null renders, without a startup probe')
      t.ok('livenessProbe' in containerOf(nulled))
      const off = await render({ set: { 'probes.liveness.enabled': false, 'probes.readiness.enabled': false } })
      t.notOk('livenessProbe' in containerOf(off) || 'readinessProbe' in containerOf(off), 'enabled: false')
      t.same(containerOf(off).startupProbe, {
        httpGet: { path: '/healthz', port: 'admin' },
        periodSeconds: 2,
        failureThreshold: 30,
      })
      t.match(
        await templateError(helm, {
          setString: { 'probes.liveness.exec.command[0]': 'true', 'probes.liveness.tcpSocket.port': 'admin' },
        }),
        /probes.*liveness/,
        'two handlers given: refused',
      )
    },
  )

  t.test('terminationGracePeriodSeconds must cover preStop + shutdownDelay + shutdownGrace', async (t) => {
    const err = await templateError(helm, {
      set: { terminationGracePeriodSeconds: 30 },
      setString: { 'config.lifecycle.shutdownDelay': '5s', 'config.lifecycle.shutdownGrace': '1m' },
    })
    t.match(
      err,
      /terminationGracePeriodSeconds 30 is shorter than the shutdown it must cover: preStopDelaySeconds 5 \+ config\.lifecycle\.shutdownDelay 5s \+ config\.lifecycle\.shutdownGrace 60s = 70s.*at least 70/,
    )
    t.match(
      await templateError(helm, { set: { terminationGracePeriodSeconds: 20 } }),
      /preStopDelaySeconds 5 .*shutdownGrace 25s = 30s/,
      "the gateway's default grace counts",
    )
    const exact = await render({
      set: { terminationGracePeriodSeconds: 70 },
      setString: { 'config.lifecycle.shutdownDelay': '5000ms', 'config.lifecycle.shutdownGrace': '1m' },
    })
    t.equal(deploymentOf(exact).spec.template.spec.terminationGracePeriodSeconds, 70, 'exactly enough renders')
  })

  t.test('PodDisruptionBudget and HPA guards, minAvailable, memory and custom metrics', async (t) => {
    const redis = { 'config.session.store.type': 'redis', 'secrets.redisUrl': 'redis://redis:6379/0' }
    const min = await render({
      set: { 'podDisruptionBudget.enabled': true, 'podDisruptionBudget.minAvailable': 2, replicaCount: 3 },
      setString: redis,
    })
    t.same(min.one('PodDisruptionBudget').spec.minAvailable, 2)
    t.notOk('maxUnavailable' in min.one('PodDisruptionBudget').spec, 'minAvailable alone')
    t.same(
      (await render({ set: { 'podDisruptionBudget.enabled': true } })).one('PodDisruptionBudget').spec.maxUnavailable,
      1,
      'default: maxUnavailable 1',
    )
    t.match(
      await templateError(helm, {
        set: {
          'podDisruptionBudget.enabled': true,
          'podDisruptionBudget.minAvailable': 1,
          'podDisruptionBudget.maxUnavailable': 1,
          replicaCount: 3,
        },
        setString: redis,
      }),
      /minAvailable and podDisruptionBudget\.maxUnavailable are exclusive/,
    )
    t.match(
      await templateError(helm, {
        set: { 'podDisruptionBudget.enabled': true, 'podDisruptionBudget.maxUnavailable': 0 },
      }),
      /maxUnavailable 0 lets no pod be evicted: node drains .* would block/,
    )
    t.match(
      await templateError(helm, {
        set: { 'podDisruptionBudget.enabled': true, 'podDisruptionBudget.minAvailable': 1 },
      }),
      /minAvailable 1 with 1 replica\(s\) lets no pod be evicted/,
    )
    t.match(
      await templateError(helm, {
        set: { 'autoscaling.enabled': true, 'autoscaling.minReplicas': 5, 'autoscaling.maxReplicas': 3 },
        setString: redis,
      }),
      /autoscaling\.minReplicas 5 is above autoscaling\.maxReplicas 3/,
    )
    const hpa = (await render({ bare: true, values: [join(CI, 'replicas-values.yaml')] })).one(
      'HorizontalPodAutoscaler',
    )
    t.same(
      hpa.spec.metrics.map(
        (m: { type: string; resource?: { name: string }; pods?: { metric: { name: string } } }) =>
          m.resource?.name ?? m.pods?.metric.name,
      ),
      ['cpu', 'memory', 'http_requests_per_second'],
    )
    const memoryOnly = await render({
      set: { 'autoscaling.enabled': true, 'autoscaling.targetMemoryUtilizationPercentage': 75 },
      setString: { ...redis, 'autoscaling.targetCPUUtilizationPercentage': '' },
    })
    t.same(memoryOnly.one('HorizontalPodAutoscaler').spec.metrics, [
      { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 75 } } },
    ])
  })

  t.test('a Secret the chart does not hold: deploymentAnnotations for a reloader', async (t) => {
    const r = await render({
      setString: {
        'secrets.existingSecret': 'dpi-credentials',
        'deploymentAnnotations.secret\\.reloader\\.stakater\\.com/reload': 'dpi-credentials',
      },
    })
    t.same(
      deploymentOf(r).metadata.annotations,
      { 'secret.reloader.stakater.com/reload': 'dpi-credentials' },
      'on the Deployment, where Reloader reads it',
    )
    t.notOk(
      'checksum/secret' in deploymentOf(r).spec.template.metadata.annotations,
      'no checksum of a Secret the chart cannot read',
    )
    t.match(
      readFileSync(join(ROOT, 'docs', 'helm.md'), 'utf8'),
      /secret\.reloader\.stakater\.com\/reload/,
      'docs/helm.md shows it',
    )
  })

  t.test('labels: the standard ones on every object and on the pods; customLabels everywhere', async (t) => {
    const r = await render({
      setString: { 'customLabels.team': 'dsi', 'customLabels.app\\.kubernetes\\.io/name': 'spoofed' },
    })
    const standard = [
      'app.kubernetes.io/name',
      'app.kubernetes.io/instance',
      'app.kubernetes.io/version',
      'app.kubernetes.io/component',
      'app.kubernetes.io/managed-by',
      'helm.sh/chart',
    ]
    const pod = deploymentOf(r).spec.template.metadata.labels as Record<string, string>
    for (const k of standard) t.ok(k in pod, `pods carry ${k}`)
    t.equal(pod['app.kubernetes.io/component'], 'gateway')
    t.equal(pod.team, 'dsi')
    for (const o of r.objects) {
      t.equal(o.metadata.labels!.team, 'dsi', `${o.kind}: customLabels`)
      t.equal(
        o.metadata.labels!['app.kubernetes.io/name'],
        'psc-gateway',
        `${o.kind}: a custom label does not replace a standard one`,
      )
    }
    t.same(
      deploymentOf(r).spec.selector.matchLabels,
      { 'app.kubernetes.io/name': 'psc-gateway', 'app.kubernetes.io/instance': 'gw' },
      'the selector does not change (immutable)',
    )
  })

  t.test('resource quantities are checked: a memory without a unit is refused', async (t) => {
    t.match(await templateError(helm, { set: { 'resources.limits.memory': 64 } }), /resources.*limits.*memory/)
    t.match(await templateError(helm, { setString: { 'resources.limits.memory': '64' } }), /resources.*limits.*memory/)
    t.match(await templateError(helm, { setString: { 'resources.requests.cpu': 'lots' } }), /resources.*requests.*cpu/)
    const ok = await render({
      set: { 'resources.requests.cpu': 0.5 },
      setString: { 'resources.limits.memory': '1Gi', 'resources.limits.cpu': '2' },
    })
    t.same(containerOf(ok).resources, { requests: { cpu: 0.5, memory: '320Mi' }, limits: { memory: '1Gi', cpu: '2' } })
  })

  t.test('values.yaml sends the reader to docs that exist', async (t) => {
    const values = readFileSync(join(CHART, 'values.yaml'), 'utf8')
    const references = [...values.matchAll(/\b(docs\/[a-z0-9-]+\.md)(?: "([^"]+)")?/g)]
    t.ok(references.length >= 3, `${references.length} references`)
    for (const [, file, section] of references) {
      const text = readFileSync(join(ROOT, file!), 'utf8')
      if (section)
        t.match(
          text,
          new RegExp(`^#+ ${section!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'),
          `${file} has the section "${section}"`,
        )
      else t.ok(text.length > 0, `${file} exists`)
    }
    t.notMatch(values, /\bREADME\b/, "no README section: the chart's reader is sent to docs/")
  })

  t.test("helm lint --strict agrees with rendering: the defaults fail both, with the chart's message", async (t) => {
    const bare = await lint(helm, { bare: true })
    t.notOk(bare.ok, 'lint fails on the defaults (rendering does)')
    t.match(bare.output, /config\.publicUrl is required/)
    t.match(bare.output, /secrets\.sessionSecret is empty/)
    t.match(await templateError(helm, { bare: true }), /config\.publicUrl is required/)
    const ci = readdirSync(CI)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
    t.ok(ci.length >= 3, `ci/: ${ci.join(', ')}`)
    for (const f of ci) {
      const result = await lint(helm, { bare: true, values: [join(CI, f)] })
      t.ok(result.ok, `ci/${f}: lint --strict passes: ${result.output}`)
      await template(helm, { bare: true, values: [join(CI, f)] })
      t.pass(`ci/${f}: renders`)
    }
  })

  t.test(
    'options: existingConfig, extraObjects, hostAliases, service, ingress extraPaths, HTTPRoute, ServiceMonitor',
    async (t) => {
      const own = await render({ bare: true, values: [join(CI, 'existing-config-values.yaml')] })
      t.same(own.all('ConfigMap'), [], 'no ConfigMap rendered')
      t.same(deploymentOf(own).spec.template.spec.volumes[0], {
        name: 'config',
        configMap: { name: 'dpi-gateway-configuration' },
      })
      t.notOk(
        'checksum/config' in (deploymentOf(own).spec.template.metadata.annotations ?? {}),
        'no checksum of a ConfigMap the chart does not hold',
      )

      const r = await render({ bare: true, values: [join(CI, 'replicas-values.yaml')] })
      const pod = deploymentOf(r).spec.template.spec
      t.same(pod.hostAliases, [{ ip: '10.20.0.5', hostnames: ['dpi.interne.hopital-exemple.fr'] }])
      t.equal(pod.containers[0].startupProbe, undefined)
      t.same(pod.containers[0].livenessProbe, {
        tcpSocket: { port: 'admin' },
        periodSeconds: 10,
        timeoutSeconds: 3,
        failureThreshold: 3,
      })
      const extra = r.all('ConfigMap').find((c) => c.metadata.name === 'gw-extra')
      t.same(extra?.data, { note: 'rendered with the release' }, 'extraObjects, templated')
      const svc = r.one('Service')
      t.same(svc.spec.loadBalancerSourceRanges, ['10.0.0.0/8'])
      t.equal(svc.spec.externalTrafficPolicy, 'Local')
      t.equal(svc.spec.ports[0].nodePort, 30080)
      t.notOk('nodePort' in svc.spec.ports[1])
      const paths = r.one('Ingress').spec.rules[0].http.paths as { path: string }[]
      t.same(
        paths.map((p) => p.path),
        ['/.well-known/acme-challenge', '/'],
        'extraPaths first',
      )
      const route = r.one('HTTPRoute')
      t.same(route.spec, {
        parentRefs: [{ name: 'public', namespace: 'gateway-system', sectionName: 'https' }],
        hostnames: ['dpi.hopital-exemple.fr'],
        rules: [
          { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: FULLNAME, port: 80 }] },
        ],
      })
      t.match(
        await templateError(helm, {
          set: { 'httpRoute.enabled': true },
          setString: { 'httpRoute.parentRefs[0].name': 'public', 'httpRoute.hostnames[0]': 'other.example.fr' },
        }),
        /host of config\.publicUrl \(dpi\.hopital-exemple\.fr\) must be one of httpRoute\.hostnames/,
      )
      const monitor = r.one('ServiceMonitor')
      t.equal(monitor.metadata.namespace, 'monitoring')
      t.same(
        monitor.spec.namespaceSelector,
        { matchNames: ['gw'] },
        "from another namespace, it still selects this release's Service",
      )
      const tls = await render({
        set: { 'serviceMonitor.enabled': true },
        setString: {
          'serviceMonitor.scheme': 'https',
          'serviceMonitor.tlsConfig.serverName': 'gw.dpi.svc',
          'serviceMonitor.tlsConfig.ca.secret.name': 'admin-ca',
          'serviceMonitor.tlsConfig.ca.secret.key': 'ca.crt',
        },
      })
      const endpoint = tls.one('ServiceMonitor').spec.endpoints[0]
      t.equal(endpoint.scheme, 'https')
      t.same(endpoint.tlsConfig, { serverName: 'gw.dpi.svc', ca: { secret: { name: 'admin-ca', key: 'ca.crt' } } })
      t.equal(schemaProblem(tls.one('ServiceMonitor')), undefined)
    },
  )

  t.test('lint --strict over every example and test values file', async (t) => {
    for (const f of readdirSync(join(CHART, 'examples')).filter((x) => x.endsWith('.yaml'))) {
      const result = await lint(helm, {
        values: [join(CHART, 'examples', f)],
        setString: { 'secrets.redisUrl': 'redis://redis:6379/0' },
      })
      t.ok(result.ok, `examples/${f}: ${result.output}`)
    }
    t.ok(EXAMPLE.endsWith('bas.yaml') && VALUES.length > 0)
  })
}
