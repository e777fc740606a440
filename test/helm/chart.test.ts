// The Helm chart, rendered by a real helm (scripts/fetch-helm.sh provides one; .ci/run exports
// HELM_BIN) and read back as objects: every template's shape, the guards, and the rendered
// configuration loaded by the gateway's own loader.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { loadConfigText } from '../../src/config/load.js'
import { parseDockerfile, runtimeStage } from '../production/dockerfile.js'
import { readdirSync } from 'node:fs'
import {
  EXAMPLE,
  findHelm,
  installNotes,
  lint,
  ROOT,
  template,
  templateError,
  VALUES,
  type K8sObject,
  type Rendered,
  type RenderOptions,
} from './helm.js'

const CLIENT_SECRET = 'ans-client-secret-7f3c9a1b'
const SESSION_SECRET = 'chart-test-session-secret-0123456789abcdef'
const PREVIOUS_SECRET = 'chart-test-previous-secret-0123456789abcdef'
const REDIS_PASSWORD = 'redis-pass-5e6f7a8b'
const REDIS_URL = `redis://:${REDIS_PASSWORD}@redis-master.dpi.svc:6379/0`
const FULLNAME = 'gw-psc-gateway'
const SELECTOR = { 'app.kubernetes.io/name': 'psc-gateway', 'app.kubernetes.io/instance': 'gw' }

const helm = findHelm()
if (!helm) {
  const reason = 'no helm binary: set HELM_BIN, put helm on PATH, or run scripts/fetch-helm.sh (.ci/run does)'
  console.log(`# SKIP chart tests: ${reason}`)
  t.test('helm chart', { skip: reason }, async () => {})
} else {
  chartTests(helm)
}

function container(r: Rendered): K8sObject {
  return r.one('Deployment').spec.template.spec.containers[0]
}

function envOf(r: Rendered): Record<string, unknown> {
  return Object.fromEntries(
    (container(r).env as { name: string; value?: string; valueFrom?: unknown }[]).map((e) => [
      e.name,
      e.value ?? e.valueFrom,
    ]),
  )
}

function gatewayYaml(r: Rendered): string {
  return r.one('ConfigMap').data['gateway.yaml'] as string
}

/** the rendered config, loaded by the gateway with the environment the pod would have */
function loadRendered(r: Rendered, env: Record<string, string>) {
  return loadConfigText(gatewayYaml(r), '/etc/psc-gateway/gateway.yaml', env)
}

function secretData(r: Rendered): Record<string, string> {
  return Object.fromEntries(
    Object.entries(r.one('Secret').data as Record<string, string>).map(([k, v]) => [
      k,
      Buffer.from(v, 'base64').toString('utf8'),
    ]),
  )
}

function chartTests(helm: string): void {
  t.test('helm lint --strict: the required values, the worked example, every test values file', async (t) => {
    const files = readdirSync(VALUES)
      .filter((f) => f.endsWith('.yaml') && f !== 'required.yaml')
      .sort()
    t.ok(files.length >= 8, `${files.length} test values files`)
    for (const [name, o] of [
      ['required values only', {}],
      ['examples/bas.yaml', { values: [EXAMPLE], setString: { 'secrets.redisUrl': REDIS_URL } }],
      ...files.map((f) => [f, { values: [join(VALUES, f)] }]),
    ] as [string, RenderOptions][]) {
      const result = await lint(helm, o)
      t.ok(result.ok, `${name}: ${result.output}`)
    }
  })

  t.test('defaults: one replica, memory store, a NetworkPolicy, no other optional object', async (t) => {
    const r = await template(helm)
    t.same(r.kinds(), ['ConfigMap', 'Deployment', 'NetworkPolicy', 'Secret', 'Service', 'ServiceAccount'])
    for (const o of r.objects) {
      t.equal(o.metadata.name, FULLNAME, `${o.kind} name`)
      t.match(o.metadata.labels, { ...SELECTOR, 'app.kubernetes.io/managed-by': 'Helm' }, `${o.kind} labels`)
    }

    const d = r.one('Deployment')
    t.equal(d.spec.replicas, 1)
    t.equal(d.spec.revisionHistoryLimit, 5)
    t.same(
      d.spec.strategy,
      { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      'a new pod is ready before an old one goes',
    )
    t.same(d.spec.selector.matchLabels, SELECTOR)
    t.match(d.spec.template.metadata.labels, SELECTOR)
    const pod = d.spec.template.spec
    t.equal(pod.serviceAccountName, FULLNAME)
    t.equal(pod.automountServiceAccountToken, false)
    t.same(pod.securityContext, {
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      fsGroup: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    })
    t.same(pod.topologySpreadConstraints, [
      {
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: SELECTOR },
      },
    ])

    const c = container(r)
    t.equal(c.image, 'registry.example.org/psc-gateway:0.1.0', 'tag defaults to appVersion')
    t.same(c.securityContext, {
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    })
    t.same(c.ports, [
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'admin', containerPort: 9090, protocol: 'TCP' },
    ])
    t.same(c.startupProbe, { httpGet: { path: '/healthz', port: 'admin' }, periodSeconds: 2, failureThreshold: 30 })
    t.same(c.livenessProbe, {
      httpGet: { path: '/healthz', port: 'admin' },
      periodSeconds: 10,
      timeoutSeconds: 3,
      failureThreshold: 3,
    })
    t.same(c.readinessProbe, {
      httpGet: { path: '/readyz', port: 'admin' },
      periodSeconds: 5,
      timeoutSeconds: 3,
      failureThreshold: 3,
    })
    // Measured: 107.6 MB idle, 319 MB with 100,000 sessions (the memory store's default maximum).
    t.same(c.resources, { requests: { cpu: '100m', memory: '320Mi' }, limits: { memory: '640Mi' } })
    t.ok(320 * 2 ** 20 >= 319e6, 'the memory request covers the measured use')
    t.same(
      c.lifecycle,
      { preStop: { exec: { command: ['node', '-e', 'setTimeout(() => {}, 5000)'] } } },
      'preStop: 5 s of normal service while the endpoints are updated',
    )
    t.equal(pod.terminationGracePeriodSeconds, 35, 'preStop 5 s + shutdownGrace 25 s + margin')
    // The image's entrypoint is node dist/cli.js; the chart passes the same arguments as its CMD.
    const dockerCmd = runtimeStage(parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))).cmd
    t.same(c.args, dockerCmd, 'container args are the Dockerfile CMD')
    t.same(c.volumeMounts, [
      { name: 'config', mountPath: '/etc/psc-gateway', readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
    ])
    t.same(pod.volumes, [
      { name: 'config', configMap: { name: FULLNAME } },
      { name: 'tmp', emptyDir: { sizeLimit: '16Mi' } },
    ])
    const secretRef = (key: string) => ({ secretKeyRef: { name: FULLNAME, key } })
    t.same(envOf(r), {
      ADMIN_PORT: '9090',
      PSC_CLIENT_SECRET: secretRef('psc-client-secret'),
      SESSION_SECRET: secretRef('session-secret'),
    })

    const svc = r.one('Service')
    t.equal(svc.spec.type, 'ClusterIP')
    t.same(svc.spec.selector, SELECTOR)
    t.same(svc.spec.ports, [
      { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
      { name: 'admin', port: 9090, targetPort: 'admin', protocol: 'TCP' },
    ])
    t.equal(r.one('ServiceAccount').automountServiceAccountToken, false)

    const config = parse(gatewayYaml(r)) as Record<string, any>
    t.same(config.listen, { host: '0.0.0.0', port: 8080 }, 'listen on the container port')
    t.same(config.admin, { enabled: true, host: '0.0.0.0', port: 9090 }, 'admin on the probed port, all interfaces')
    t.equal(config.psc.clientSecret, '${PSC_CLIENT_SECRET}')
    t.same(config.session.secrets, ['${SESSION_SECRET}'])

    const secret = secretData(r)
    t.same(Object.keys(secret).sort(), ['psc-client-secret', 'session-secret'])
    t.equal(secret['psc-client-secret'], '', 'no client secret given')
    t.equal(secret['session-secret'], SESSION_SECRET, 'the session secret given, never a generated one')
    // The gateway refuses the default install until the ANS client secret is set: fail closed.
    t.throws(
      () =>
        loadRendered(r, { PSC_CLIENT_SECRET: secret['psc-client-secret']!, SESSION_SECRET: secret['session-secret']! }),
      /psc\.clientSecret/,
    )
  })

  t.test('the rendered configuration is one the gateway loads, with the pod environment', async (t) => {
    const r = await template(helm, {
      setString: { 'secrets.pscClientSecret': CLIENT_SECRET, 'secrets.sessionSecret': SESSION_SECRET },
    })
    const secret = secretData(r)
    const { config } = loadRendered(r, {
      PSC_CLIENT_SECRET: secret['psc-client-secret']!,
      SESSION_SECRET: secret['session-secret']!,
    })
    t.equal(config.psc.clientSecret, CLIENT_SECRET)
    t.same(config.session.secrets, [SESSION_SECRET])
    t.equal(config.psc.redirectUri, 'https://dpi.hopital-exemple.fr/_psc/callback')
    t.equal(config.admin.port, container(r).ports[1].containerPort)
    t.equal(config.listen.port, container(r).ports[0].containerPort)
    t.notOk(
      r.one('ConfigMap').data['gateway.yaml'].includes(CLIENT_SECRET) ||
        JSON.stringify(r.one('ConfigMap')).includes(SESSION_SECRET),
      'no secret in the ConfigMap',
    )
  })

  t.test(
    'the worked example: Redis, two replicas, Ingress with TLS, PDB, NetworkPolicies, ServiceMonitor',
    async (t) => {
      const r = await template(helm, {
        values: [EXAMPLE],
        setString: { 'secrets.pscClientSecret': CLIENT_SECRET, 'secrets.redisUrl': REDIS_URL },
        namespace: 'dpi-gw',
      })
      t.same(r.kinds(), [
        'ConfigMap',
        'Deployment',
        'Ingress',
        'NetworkPolicy',
        'NetworkPolicy',
        'PodDisruptionBudget',
        'Secret',
        'Service',
        'ServiceAccount',
        'ServiceMonitor',
      ])
      const d = r.one('Deployment')
      t.equal(d.spec.replicas, 2)
      t.equal(container(r).image, 'registry.hopital-exemple.fr/psc-gateway:0.1.0')
      t.equal(d.spec.template.spec.topologySpreadConstraints[0].topologyKey, 'topology.kubernetes.io/zone')
      t.same(envOf(r).REDIS_URL, { secretKeyRef: { name: FULLNAME, key: 'redis-url' } })

      const text = gatewayYaml(r)
      for (const s of [CLIENT_SECRET, REDIS_PASSWORD]) t.notOk(text.includes(s), 'no secret in the ConfigMap')
      t.equal(secretData(r)['redis-url'], REDIS_URL)
      const secret = secretData(r)
      const { config } = loadRendered(r, {
        PSC_CLIENT_SECRET: secret['psc-client-secret']!,
        SESSION_SECRET: secret['session-secret']!,
        REDIS_URL: secret['redis-url']!,
      })
      t.match(config.session.store, { type: 'redis', url: REDIS_URL })
      t.same(
        config.routes.map((x) => x.name),
        ['dpi-static', 'pharmacie', 'dpi'],
      )
      t.same(Object.keys(config.upstreams), ['app'], 'no leftover upstream from the chart defaults')

      const ing = r.one('Ingress')
      t.equal(ing.spec.ingressClassName, 'nginx')
      // ingress-nginx's default is 1 MiB; the gateway's limits.maxBodySize defaults to 100 MiB.
      t.same(ing.metadata.annotations, {
        'cert-manager.io/cluster-issuer': 'letsencrypt',
        'nginx.ingress.kubernetes.io/proxy-body-size': '100m',
      })
      t.same(ing.spec.tls, [{ secretName: 'dpi-hopital-exemple-tls', hosts: ['dpi.hopital-exemple.fr'] }])
      t.same(
        ing.spec.rules,
        [
          {
            host: 'dpi.hopital-exemple.fr',
            http: {
              paths: [
                { path: '/', pathType: 'Prefix', backend: { service: { name: FULLNAME, port: { name: 'http' } } } },
              ],
            },
          },
        ],
        'only the public port behind the Ingress',
      )

      t.same(r.one('PodDisruptionBudget').spec, { maxUnavailable: 1, selector: { matchLabels: SELECTOR } })

      const [own, upstream] = r.all('NetworkPolicy')
      t.same(own!.spec, {
        podSelector: { matchLabels: SELECTOR },
        policyTypes: ['Ingress'],
        ingress: [
          {
            ports: [{ port: 'http', protocol: 'TCP' }],
            from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }],
          },
          {
            ports: [{ port: 'admin', protocol: 'TCP' }],
            from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
          },
        ],
      })
      t.equal(upstream!.metadata.namespace, 'dpi', 'in the upstream namespace')
      t.same(
        upstream!.spec,
        {
          podSelector: { matchLabels: { app: 'dpi' } },
          policyTypes: ['Ingress'],
          ingress: [
            {
              from: [
                {
                  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'dpi-gw' } },
                  podSelector: { matchLabels: SELECTOR },
                },
              ],
              ports: [{ port: 8080, protocol: 'TCP' }],
            },
          ],
        },
        'only the gateway pods reach the upstream',
      )

      const sm = r.one('ServiceMonitor')
      t.equal(sm.apiVersion, 'monitoring.coreos.com/v1')
      t.match(sm.metadata.labels, { release: 'kube-prometheus-stack' })
      t.same(sm.spec, {
        selector: { matchLabels: SELECTOR },
        endpoints: [{ port: 'admin', path: '/metrics', interval: '30s', scrapeTimeout: '10s' }],
      })
    },
  )

  t.test('the documented worked values file renders and gives a configuration the gateway loads', async (t) => {
    // The README's Helm section moved to docs/deployment.md when the README became a front page.
    const page = readFileSync(join(ROOT, 'docs', 'deployment.md'), 'utf8')
    const section = page.slice(page.indexOf('## Helm\n'))
    const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1]
    if (block === undefined) throw new Error('no yaml block in the Helm section of docs/deployment.md')
    const dir = mkdtempSync(join(tmpdir(), 'psc-readme-values-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    writeFileSync(join(dir, 'values.yaml'), block)
    const o = {
      values: [join(dir, 'values.yaml')],
      setString: { 'secrets.pscClientSecret': CLIENT_SECRET, 'secrets.redisUrl': REDIS_URL },
    }
    const result = await lint(helm, o)
    t.ok(result.ok, result.output)
    const r = await template(helm, o)
    t.same(r.kinds(), [
      'ConfigMap',
      'Deployment',
      'Ingress',
      'NetworkPolicy',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'Secret',
      'Service',
      'ServiceAccount',
      'ServiceMonitor',
    ])
    const secret = secretData(r)
    const { config } = loadRendered(r, {
      PSC_CLIENT_SECRET: secret['psc-client-secret']!,
      SESSION_SECRET: secret['session-secret']!,
      REDIS_URL: secret['redis-url']!,
    })
    t.equal(
      config.psc.redirectUri,
      'https://dpi.hopital-exemple.fr/_psc/callback',
      'the redirect URI the README says to register',
    )
    t.equal(config.psc.postLogoutRedirectUri, 'https://dpi.hopital-exemple.fr/_psc/logged-out')
    t.equal(config.psc.issuer, 'https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet', 'PSC BAS')
    // The example file in the chart says the same as the README.
    const example = await template(helm, { ...o, values: [EXAMPLE] })
    t.same(
      parse(gatewayYaml(example)),
      parse(gatewayYaml(r)),
      'examples/bas.yaml and the README render the same configuration',
    )
  })

  t.test('existing Secret with its own key names, during a rotation', async (t) => {
    const r = await template(helm, { values: [join(VALUES, 'existing-secret.yaml')] })
    t.same(r.all('Secret'), [], 'the chart creates no Secret')
    const ref = (key: string) => ({ secretKeyRef: { name: 'dpi-gateway-credentials', key } })
    t.same(envOf(r), {
      ADMIN_PORT: '9090',
      PSC_CLIENT_SECRET: ref('client-secret'),
      SESSION_SECRET: ref('cookie-secret'),
      SESSION_SECRET_PREVIOUS: ref('cookie-secret-old'),
    })
    t.same((parse(gatewayYaml(r)) as { session: { secrets: string[] } }).session.secrets, [
      '${SESSION_SECRET}',
      '${SESSION_SECRET_PREVIOUS}',
    ])
    t.notOk(
      r.one('Deployment').spec.template.metadata.annotations['checksum/secret'],
      'no checksum of a Secret the chart does not hold',
    )
    const { config } = loadRendered(r, {
      PSC_CLIENT_SECRET: CLIENT_SECRET,
      SESSION_SECRET,
      SESSION_SECRET_PREVIOUS: PREVIOUS_SECRET,
    })
    t.same(config.session.secrets, [SESSION_SECRET, PREVIOUS_SECRET], 'new secret signs, old one still verifies')
  })

  t.test('rotation with the chart-managed Secret', async (t) => {
    const r = await template(helm, {
      setString: {
        'secrets.pscClientSecret': CLIENT_SECRET,
        'secrets.sessionSecret': SESSION_SECRET,
        'secrets.sessionSecretPrevious': PREVIOUS_SECRET,
      },
    })
    t.same(secretData(r), {
      'psc-client-secret': CLIENT_SECRET,
      'session-secret': SESSION_SECRET,
      'session-secret-previous': PREVIOUS_SECRET,
    })
    t.same(envOf(r).SESSION_SECRET_PREVIOUS, { secretKeyRef: { name: FULLNAME, key: 'session-secret-previous' } })
    const secret = secretData(r)
    const { config } = loadRendered(r, {
      PSC_CLIENT_SECRET: secret['psc-client-secret']!,
      SESSION_SECRET: secret['session-secret']!,
      SESSION_SECRET_PREVIOUS: secret['session-secret-previous']!,
    })
    t.same(config.session.secrets, [SESSION_SECRET, PREVIOUS_SECRET])
  })

  t.test('checksum annotations roll the pods on a configuration or secret change, not otherwise', async (t) => {
    const checksums = async (o: Parameters<typeof template>[1]) => {
      const a = (await template(helm, o)).one('Deployment').spec.template.metadata.annotations
      return [a['checksum/config'], a['checksum/secret']]
    }
    const base = await checksums({ setString: { 'secrets.sessionSecret': SESSION_SECRET } })
    t.match(base[0], /^[0-9a-f]{64}$/)
    t.same(
      await checksums({
        setString: { 'secrets.sessionSecret': SESSION_SECRET },
        set: { 'resources.limits.memory': '1Gi' },
      }),
      base,
      'unrelated change: same checksums',
    )
    const routes = await checksums({
      setString: { 'secrets.sessionSecret': SESSION_SECRET, 'config.session.idleTimeout': '15m' },
    })
    t.not(routes[0], base[0], 'a configuration change rolls the pods')
    t.equal(routes[1], base[1])
    const secret = await checksums({
      setString: { 'secrets.sessionSecret': SESSION_SECRET, 'secrets.pscClientSecret': CLIENT_SECRET },
    })
    t.equal(secret[0], base[0])
    t.not(secret[1], base[1], 'a secret change rolls the pods')
  })

  t.test('HPA with the Redis store; no fixed replicas', async (t) => {
    const r = await template(helm, { values: [join(VALUES, 'autoscaled.yaml')] })
    t.same(r.kinds(), [
      'ConfigMap',
      'Deployment',
      'HorizontalPodAutoscaler',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'Secret',
      'Service',
      'ServiceAccount',
    ])
    t.notOk('replicas' in r.one('Deployment').spec, 'the HPA owns the replica count')
    const hpa = r.one('HorizontalPodAutoscaler')
    t.equal(hpa.apiVersion, 'autoscaling/v2')
    t.same(hpa.spec, {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: FULLNAME },
      minReplicas: 3,
      maxReplicas: 9,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } },
      ],
    })
    t.notOk(gatewayYaml(r).includes('pw-redis-0123'), 'no Redis password in the ConfigMap')
  })

  t.test('mTLS: the certificate Secret is mounted and the gateway authenticates to PSC with it', async (t) => {
    const r = await template(helm, { values: [join(VALUES, 'mtls.yaml')] })
    t.same(container(r).volumeMounts.at(-1), { name: 'mtls', mountPath: '/etc/psc-gateway-tls', readOnly: true })
    t.same(r.one('Deployment').spec.template.spec.volumes.at(-1), {
      name: 'mtls',
      secret: { secretName: 'psc-client-certificate', defaultMode: 0o400 },
    })
    const psc = (parse(gatewayYaml(r)) as { psc: Record<string, unknown> }).psc
    t.equal(psc.clientAuth, 'tls_client_auth', 'RFC 8705 client authentication')
    t.same(
      psc.certificate,
      { cert: '/etc/psc-gateway-tls/tls.crt', key: '/etc/psc-gateway-tls/tls.key' },
      'the mounted files',
    )
    t.notOk('clientSecret' in psc, 'no client secret with a certificate')
    t.notOk('PSC_CLIENT_SECRET' in envOf(r))
    t.same(Object.keys(secretData(r)), ['session-secret'])
    const p12 = await template(helm, {
      values: [join(VALUES, 'mtls.yaml')],
      setString: { 'mtls.format': 'pkcs12', 'mtls.passwordKey': 'password' },
    })
    t.same((parse(gatewayYaml(p12)) as { psc: Record<string, unknown> }).psc.certificate, {
      pkcs12: '/etc/psc-gateway-tls/certificate.p12',
      password: '${PSC_CERTIFICATE_PASSWORD}',
    })
    t.same(
      envOf(p12).PSC_CERTIFICATE_PASSWORD,
      { secretKeyRef: { name: 'psc-client-certificate', key: 'password' } },
      'the password from the certificate Secret, never the ConfigMap',
    )
  })

  t.test('guards: the chart refuses what cannot work or would leak a secret', async (t) => {
    const cases: [string, Parameters<typeof template>[1], RegExp][] = [
      [
        'replicas 2 with the memory store',
        { set: { replicaCount: 2 } },
        /replicaCount 2 .*need a shared session store: set config\.session\.store\.type: redis/,
      ],
      [
        'HPA with the memory store',
        { set: { 'autoscaling.enabled': true } },
        /autoscaling\.enabled true need a shared session store/,
      ],
      [
        'a literal client secret in config',
        { setString: { 'config.psc.clientSecret': CLIENT_SECRET } },
        /config\.psc\.clientSecret must not be written in values/,
      ],
      [
        'a literal session secret in config',
        { setString: { 'config.session.secrets[0]': SESSION_SECRET } },
        /config\.session\.secrets must not be written in values/,
      ],
      [
        'a Redis URL with a password in config',
        { setString: { 'config.session.store.type': 'redis', 'config.session.store.url': REDIS_URL } },
        /config\.session\.store\.url carries credentials/,
      ],
      ['redis without a URL', { setString: { 'config.session.store.type': 'redis' } }, /set secrets\.redisUrl/],
      [
        'an Ingress host other than publicUrl',
        { set: { 'ingress.enabled': true }, setString: { 'ingress.hosts[0]': 'other.example.fr' } },
        /host of config\.publicUrl \(dpi\.hopital-exemple\.fr\) must be one of ingress\.hosts/,
      ],
      [
        'an upstream merged in from the defaults that no route uses',
        {
          setString: {
            'config.upstreams.dpi.url': 'http://dpi:8080',
            'config.routes[0].name': 'dpi',
            'config.routes[0].upstream': 'dpi',
            'config.routes[0].access': 'authenticated',
          },
        },
        /config\.upstreams\.app is used by no route\. Helm merges config\.upstreams with the chart's default \(app\)/,
      ],
      ['mTLS without a Secret', { set: { 'mtls.enabled': true } }, /mtls\.enabled needs mtls\.secretName/],
      [
        'an unknown value (typo)',
        { set: { replicaCout: 2 } },
        /additional propert(y|ies) '?replicaCout'? (is )?not allowed/i,
      ],
      // Helm 3 said "String length must be less than or equal to 0".
      [
        'a short session secret',
        { setString: { 'secrets.sessionSecret': 'short' } },
        /secrets\.sessionSecret is 5 characters long; it must be at least 32 \(openssl rand -base64 48\)/,
      ],
      [
        'no session secret',
        { setString: { 'secrets.sessionSecret': '' } },
        /secrets\.sessionSecret is empty: set it .*The chart does not generate it/,
      ],
      [
        'no publicUrl',
        { bare: true, setString: { 'secrets.sessionSecret': SESSION_SECRET } },
        /config\.publicUrl is required/,
      ],
      [
        'a literal audit HMAC key in config',
        {
          setString: {
            'config.audit.hmacKey': 'forgeable-audit-key-0123456789abcdef',
            'config.audit.file': '/var/log/a.jsonl',
          },
        },
        /config\.audit\.hmacKey must not be written in values .*forge/,
      ],
      [
        'an audit file without its key',
        { set: { 'audit.persistence.enabled': true } },
        /the audit file needs its HMAC key: set secrets\.auditHmacKey/,
      ],
      [
        'trusted proxies that any pod can impersonate',
        { setString: { 'config.trustedProxies[0]': '10.0.0.0/8' } },
        /config\.trustedProxies \[10\.0\.0\.0\/8\] .*set networkPolicy\.enabled and networkPolicy\.publicFrom/,
      ],
      [
        'a ReadWriteOnce audit volume for two replicas',
        {
          set: { replicaCount: 2, 'audit.persistence.enabled': true },
          setString: {
            'config.session.store.type': 'redis',
            'secrets.redisUrl': REDIS_URL,
            'secrets.auditHmacKey': 'audit-hmac-key-0123456789abcdef-0123',
          },
        },
        /audit\.persistence with more than one replica needs accessModes \[ReadWriteMany\]/,
      ],
      // values.schema.json checks config with the gateway's own schema: no crash-looping pods.
      [
        'a typo in config',
        { setString: { 'config.sesion.idleTimeout': '30m' } },
        /config.*additional propert(y|ies) '?sesion'? (is )?not allowed/i,
      ],
      [
        'a wrong type in config',
        { setString: { 'config.session.store.type': 'memcached' } },
        /config[./]session[./]store[./]type/,
      ],
    ]
    for (const [name, o, expected] of cases) {
      const err = await templateError(helm, o)
      t.match(err, expected, name)
      for (const s of [CLIENT_SECRET, SESSION_SECRET, REDIS_PASSWORD])
        t.notOk(err.includes(s), `${name}: the error does not echo a secret`)
    }
    // Two replicas are fine once the store is shared.
    const ok = await template(helm, {
      set: { replicaCount: 2 },
      setString: { 'config.session.store.type': 'redis', 'secrets.redisUrl': REDIS_URL },
    })
    t.equal(ok.one('Deployment').spec.replicas, 2)
  })

  t.test('NOTES.txt: the URIs to register at ANS and what is missing', async (t) => {
    const notes = await installNotes(helm, { namespace: 'dpi' })
    t.notMatch(notes, /config\.psc\.clientId is still/)
    const changeMe = await installNotes(helm, { setString: { 'config.psc.clientId': 'CHANGE-ME-client-id-from-ANS' } })
    t.match(
      changeMe,
      /ACTION NEEDED: config\.psc\.clientId is still "CHANGE-ME-client-id-from-ANS"/,
      'the placeholder client id is flagged',
    )
    t.match(notes, /Redirect URI to register at ANS:\s+https:\/\/dpi\.hopital-exemple\.fr\/_psc\/callback/)
    t.match(notes, /Post-logout redirect URI to register:\s+https:\/\/dpi\.hopital-exemple\.fr\/_psc\/logged-out/)
    t.match(notes, /ACTION NEEDED: secrets\.pscClientSecret is empty/)
    t.match(notes, /kubectl -n dpi port-forward svc\/gw-psc-gateway 9090:9090/)
    const set = await installNotes(helm, {
      values: [EXAMPLE],
      setString: { 'secrets.pscClientSecret': CLIENT_SECRET, 'secrets.redisUrl': REDIS_URL },
    })
    t.notMatch(set, /ACTION NEEDED/)
    t.match(set, /Session store: redis \(2 replicas\)/)
    t.match(set, /scraped through the ServiceMonitor/)
    t.notOk(set.includes(CLIENT_SECRET) || set.includes(REDIS_PASSWORD), 'no secret in the notes')
  })
}
