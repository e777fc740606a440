// What issue 15 found missing or wrong in the chart, each rendered and read back: GitOps-stable
// secrets, Redis Sentinel, the audit file on a volume with its key from the Secret, the options of
// well-known charts, the ingress body size, trusted proxies behind a NetworkPolicy, the shutdown.
import { join } from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { findHelm, template, VALUES, type K8sObject, type Rendered } from './helm.js'
import { podEnvironment } from './render-check.js'
import { loadConfigText } from '../../src/config/load.js'
import { makeTestPki } from '../helpers/pki.js'

const FULLNAME = 'gw-psc-gateway'
const CLIENT_SECRET = 'ans-client-secret-options-5678'

const helm = findHelm()
if (!helm) {
  t.test('chart options', { skip: 'no helm binary: set HELM_BIN or run scripts/fetch-helm.sh' }, async () => {})
} else {
  options(helm)
}

const deploymentOf = (r: Rendered): K8sObject => r.one('Deployment')
const containerOf = (r: Rendered) => deploymentOf(r).spec.template.spec.containers[0]
const gatewayConfig = (r: Rendered) =>
  parse(r.all('ConfigMap').find((c) => c.data['gateway.yaml'])!.data['gateway.yaml'] as string) as Record<string, any>
const envOf = (r: Rendered) =>
  Object.fromEntries(
    (containerOf(r).env as { name: string; value?: string; valueFrom?: unknown }[]).map((e) => [
      e.name,
      e.value ?? e.valueFrom,
    ]),
  )

function options(helm: string): void {
  t.test(
    'GitOps: helm template renders the same objects every time (no secret generated at render time)',
    async (t) => {
      const first = await template(helm, { setString: { 'secrets.pscClientSecret': CLIENT_SECRET } })
      const second = await template(helm, { setString: { 'secrets.pscClientSecret': CLIENT_SECRET } })
      t.equal(second.text, first.text, 'two renders are identical (Argo CD sees no drift)')
      const secret = first.one('Secret')
      const annotations = deploymentOf(first).spec.template.metadata.annotations
      t.match(annotations['checksum/secret'], /^[0-9a-f]{64}$/)
      const rotated = await template(helm, {
        setString: {
          'secrets.pscClientSecret': CLIENT_SECRET,
          'secrets.sessionSecret': 'another-session-secret-0123456789abcdef',
        },
      })
      t.not(rotated.one('Secret').data['session-secret'], secret.data['session-secret'])
      t.not(
        deploymentOf(rotated).spec.template.metadata.annotations['checksum/secret'],
        annotations['checksum/secret'],
        'the checksum follows the Secret it describes',
      )
    },
  )

  t.test('Redis Sentinel without a URL: no REDIS_URL, a configuration the gateway accepts', async (t) => {
    const r = await template(helm, {
      values: [join(VALUES, 'sentinel.yaml')],
      setString: { 'secrets.pscClientSecret': CLIENT_SECRET },
    })
    const store = gatewayConfig(r).session.store
    t.same(store, {
      type: 'redis',
      sentinel: { name: 'mymaster', hosts: ['redis-sentinel.redis.svc:26379', 'redis-sentinel-2.redis.svc:26379'] },
    })
    t.notOk('REDIS_URL' in envOf(r))
    const { config } = loadConfigText(
      r.all('ConfigMap')[0]!.data['gateway.yaml'],
      'gateway.yaml',
      podEnvironment(r).env,
    )
    t.same(config.session.store.sentinel, {
      name: 'mymaster',
      hosts: [
        { host: 'redis-sentinel.redis.svc', port: 26379 },
        { host: 'redis-sentinel-2.redis.svc', port: 26379 },
      ],
    })
    // With a password: the URL in the Secret carries the credentials only.
    const withPassword = await template(helm, {
      values: [join(VALUES, 'sentinel-password.yaml')],
      setString: { 'secrets.pscClientSecret': CLIENT_SECRET },
    })
    t.equal(gatewayConfig(withPassword).session.store.url, '${REDIS_URL}')
    t.same(envOf(withPassword).REDIS_URL, { secretKeyRef: { name: FULLNAME, key: 'redis-url' } })
  })

  t.test(
    'audit trail on a PersistentVolumeClaim, one chained file per pod, the HMAC key from the Secret only',
    async (t) => {
      const r = await template(helm, {
        values: [join(VALUES, 'audit-pvc.yaml')],
        setString: { 'secrets.pscClientSecret': CLIENT_SECRET },
      })
      const pvc = r.one('PersistentVolumeClaim')
      t.equal(pvc.metadata.name, `${FULLNAME}-audit`)
      t.equal(pvc.metadata.annotations!['helm.sh/resource-policy'], 'keep', 'the trail outlives an uninstall')
      t.same(pvc.spec, {
        accessModes: ['ReadWriteOnce'],
        storageClassName: 'fast-ssd',
        resources: { requests: { storage: '20Gi' } },
      })
      t.same(gatewayConfig(r).audit, { file: '${AUDIT_FILE}', hmacKey: '${AUDIT_HMAC_KEY}' })
      const env = envOf(r)
      t.same(env.AUDIT_HMAC_KEY, { secretKeyRef: { name: FULLNAME, key: 'audit-hmac-key' } })
      t.same(env.POD_NAME, { fieldRef: { fieldPath: 'metadata.name' } })
      t.equal(env.AUDIT_FILE, '/var/log/psc-gateway/$(POD_NAME).audit.jsonl')
      t.same(containerOf(r).volumeMounts.at(-1), { name: 'audit', mountPath: '/var/log/psc-gateway' })
      t.same(deploymentOf(r).spec.template.spec.volumes.at(-1), {
        name: 'audit',
        persistentVolumeClaim: { claimName: `${FULLNAME}-audit` },
      })
      const configMaps = JSON.stringify(r.all('ConfigMap'))
      t.notOk(configMaps.includes('audit-hmac-key-for-tests'), 'the key is in no ConfigMap')
      t.equal(
        Buffer.from(r.one('Secret').data['audit-hmac-key'], 'base64').toString(),
        'audit-hmac-key-for-tests-0123456789abcdef',
      )
      const { config } = loadConfigText(
        r.all('ConfigMap')[0]!.data['gateway.yaml'],
        'gateway.yaml',
        podEnvironment(r).env,
      )
      t.match(config.audit.file, /gw-psc-gateway-5d9c7b6f4-x2x7q\.audit\.jsonl$/, 'the pod name in the file name')
      // Several replicas: a shared ReadWriteMany volume, an existing claim and Secret.
      const rwx = await template(helm, { values: [join(VALUES, 'audit-rwx.yaml')] })
      t.same(rwx.all('PersistentVolumeClaim'), [], 'no claim made for an existing one')
      t.same(deploymentOf(rwx).spec.template.spec.volumes.at(-1), {
        name: 'audit',
        persistentVolumeClaim: { claimName: 'audit-nfs' },
      })
      t.same(envOf(rwx).AUDIT_HMAC_KEY, { secretKeyRef: { name: 'gateway-credentials', key: 'audit-hmac-key' } })
    },
  )

  t.test(
    'audit trail to the SIEM over syslog: several replicas, no volume, the certificates from a mounted Secret',
    async (t) => {
      const r = await template(helm, {
        values: [join(VALUES, 'syslog.yaml')],
        setString: { 'secrets.pscClientSecret': CLIENT_SECRET },
      })
      t.equal(deploymentOf(r).spec.replicas, 3, 'three replicas without a ReadWriteMany volume')
      t.same(r.all('PersistentVolumeClaim'), [])
      t.same(gatewayConfig(r).audit, {
        stdout: false,
        headEvery: '5m',
        syslog: {
          transport: 'tls',
          host: 'siem-collector.securite.svc.cluster.local',
          port: 6514,
          serverName: 'siem-collector.hopital-exemple.fr',
          caFile: '/etc/siem-tls/ca.crt',
          certFile: '/etc/siem-tls/tls.crt',
          keyFile: '/etc/siem-tls/tls.key',
          facility: 10,
          appName: 'psc-gateway-dpi',
          onBackpressure: 'block',
          maxQueuedEvents: 20000,
        },
      })
      const env = envOf(r)
      t.notOk('AUDIT_HMAC_KEY' in env || 'AUDIT_FILE' in env, 'no audit file, so no key and no file name')
      t.same(
        containerOf(r).volumeMounts.find((m: { name: string }) => m.name === 'siem-tls'),
        { name: 'siem-tls', mountPath: '/etc/siem-tls', readOnly: true },
      )
      t.same(
        deploymentOf(r).spec.template.spec.volumes.find((v: { name: string }) => v.name === 'siem-tls'),
        { name: 'siem-tls', secret: { secretName: 'siem-client-certificate', defaultMode: 0o440 } },
        'group-readable: the pod runs with fsGroup',
      )
      t.equal(deploymentOf(r).spec.template.spec.securityContext.fsGroup, 1000)
      // The gateway loads it (the test's certificates in place of the mounted Secret's).
      const pki = makeTestPki()
      t.teardown(() => pki.close())
      const yaml = (r.all('ConfigMap')[0]!.data['gateway.yaml'] as string)
        .replaceAll('/etc/siem-tls/ca.crt', pki.caFile)
        .replaceAll('/etc/siem-tls/tls.crt', pki.clientCertFile)
        .replaceAll('/etc/siem-tls/tls.key', pki.clientKeyFile)
      const { config } = loadConfigText(yaml, 'gateway.yaml', podEnvironment(r).env)
      t.match(config.audit.syslog, {
        transport: 'tls',
        port: 6514,
        facility: 10,
        appName: 'psc-gateway-dpi',
        caFile: pki.caFile,
        certFile: pki.clientCertFile,
      })
      t.equal(config.audit.stdout, false)
      t.equal(config.audit.file, undefined)
      // Without the mounted files the gateway refuses to start, naming the key: the mount is needed.
      t.throws(
        () =>
          loadConfigText(r.all('ConfigMap')[0]!.data['gateway.yaml'] as string, 'gateway.yaml', podEnvironment(r).env),
        /audit\.syslog\.caFile.*cannot read \/etc\/siem-tls\/ca\.crt/s,
      )
    },
  )

  t.test('the options of well-known charts', async (t) => {
    const r = await template(helm, {
      values: [join(VALUES, 'options.yaml')],
      setString: { 'secrets.pscClientSecret': CLIENT_SECRET },
    })
    const d = deploymentOf(r)
    const pod = d.spec.template.spec
    const c = containerOf(r)
    t.equal(
      c.image,
      'registry.hopital.fr/psc-gateway:0.1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
      'image.digest',
    )
    t.equal(d.spec.revisionHistoryLimit, 2)
    t.same(d.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } })
    t.same(c.args, ['serve', '--config', '/etc/psc-gateway/gateway.yaml', '--unused-flag-for-the-test'], 'extraArgs')
    t.same(c.envFrom, [{ secretRef: { name: 'proxy-credentials' } }])
    t.same(envOf(r).TZ, 'Europe/Paris')
    t.same(c.volumeMounts.at(-1), { name: 'redis-ca', mountPath: '/etc/redis-ca', readOnly: true })
    t.same(pod.volumes.at(-1), { name: 'redis-ca', secret: { secretName: 'redis-ca' } })
    t.same(
      pod.initContainers.map((x: { name: string }) => x.name),
      ['wait-for-redis'],
    )
    t.same(
      pod.containers.map((x: { name: string }) => x.name),
      ['gateway', 'log-shipper'],
      'sidecars after the gateway',
    )
    t.same(
      c.lifecycle,
      { preStop: { exec: { command: ['node', '-e', 'setTimeout(() => {}, 10000)'] } } },
      'lifecycle replaces the default preStop',
    )
    t.equal(pod.terminationGracePeriodSeconds, 45)
    t.same(pod.topologySpreadConstraints, [
      {
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'DoNotSchedule',
        labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'psc-gateway' } },
      },
    ])
    t.same(
      c.readinessProbe,
      {
        httpGet: { path: '/readyz', port: 'admin' },
        periodSeconds: 5,
        timeoutSeconds: 3,
        failureThreshold: 3,
        initialDelaySeconds: 3,
        successThreshold: 2,
      },
      'probe override merged',
    )
    t.same(c.livenessProbe, {
      httpGet: { path: '/healthz', port: 'admin' },
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 3,
    })
    const ing = r.one('Ingress')
    t.same(
      ing.spec.tls,
      [
        { secretName: 'dpi-tls', hosts: ['dpi.hopital-exemple.fr'] },
        { secretName: 'dpi-secours-tls', hosts: ['dpi-secours.hopital-exemple.fr'] },
      ],
      'TLS list',
    )
    t.same(
      ing.spec.rules.map((x: { host: string; http: { paths: { path: string; pathType: string }[] } }) => [
        x.host,
        x.http.paths.map((p) => `${p.pathType} ${p.path}`),
      ]),
      [
        ['dpi.hopital-exemple.fr', ['Prefix /', 'Exact /_psc/callback']],
        ['dpi-secours.hopital-exemple.fr', ['Prefix /', 'Exact /_psc/callback']],
      ],
      'paths and pathType',
    )
    t.equal(
      ing.metadata.annotations!['nginx.ingress.kubernetes.io/proxy-body-size'],
      '10m',
      'ingress-nginx body limit = limits.maxBodySize (10 MiB)',
    )
    const own = await template(helm, {
      values: [join(VALUES, 'options.yaml')],
      setString: {
        'secrets.pscClientSecret': CLIENT_SECRET,
        'ingress.annotations.nginx\\.ingress\\.kubernetes\\.io/proxy-body-size': '2m',
      },
    })
    t.equal(
      own.one('Ingress').metadata.annotations!['nginx.ingress.kubernetes.io/proxy-body-size'],
      '2m',
      'an explicit annotation wins',
    )
  })

  t.test('ServiceMonitor relabelings, PrometheusRule thresholds', async (t) => {
    const r = await template(helm, {
      values: [join(VALUES, 'monitoring.yaml')],
      setString: { 'secrets.pscClientSecret': CLIENT_SECRET },
    })
    const endpoint = r.one('ServiceMonitor').spec.endpoints[0]
    t.same(endpoint.relabelings, [{ sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node' }])
    t.same(endpoint.metricRelabelings, [{ sourceLabels: ['__name__'], regex: 'nodejs_gc_.*', action: 'drop' }])
    const rules = r.one('PrometheusRule').spec.groups[0].rules as { alert: string; expr: string }[]
    t.match(rules.find((x) => x.alert === 'PscGatewayLoginFailureRatio')!.expr, /> 0\.3\s*$/)
    t.match(rules.find((x) => x.alert === 'PscGatewayClientCertificateExpiry')!.expr, /< 3888000$/, '45 days')
    t.equal(r.one('PrometheusRule').metadata.labels!.release, 'kube-prometheus-stack')
  })

  t.test('trusted proxies only behind a NetworkPolicy that lets only the ingress controller in', async (t) => {
    const r = await template(helm, {
      values: [join(VALUES, 'trusted-proxies.yaml')],
      setString: { 'secrets.pscClientSecret': CLIENT_SECRET },
    })
    t.same(gatewayConfig(r).trustedProxies, ['10.42.0.0/16'])
    t.same(r.one('NetworkPolicy').spec.ingress[0], {
      ports: [{ port: 'http', protocol: 'TCP' }],
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }],
    })
    const defaults = await template(helm, { setString: { 'secrets.pscClientSecret': CLIENT_SECRET } })
    t.same(gatewayConfig(defaults).trustedProxies, [], 'no forwarded header believed by default')
  })

  t.test("shutdown: preStop pause, then the gateway's own delay and grace", async (t) => {
    const r = await template(helm, {
      values: [join(VALUES, 'shutdown.yaml')],
      setString: { 'secrets.pscClientSecret': CLIENT_SECRET },
    })
    t.same(containerOf(r).lifecycle, { preStop: { exec: { command: ['node', '-e', 'setTimeout(() => {}, 10000)'] } } })
    t.same(gatewayConfig(r).lifecycle, { shutdownDelay: '3s', shutdownGrace: '20s' })
    t.equal(deploymentOf(r).spec.template.spec.terminationGracePeriodSeconds, 40)
    const none = await template(helm, {
      set: { preStopDelaySeconds: 0 },
      setString: { 'secrets.pscClientSecret': CLIENT_SECRET },
    })
    t.notOk('lifecycle' in containerOf(none), 'preStopDelaySeconds 0: no preStop hook')
  })
}
