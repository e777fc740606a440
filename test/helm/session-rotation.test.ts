// Rotating the session secret with several replicas, as the chart does it: each phase's values are
// rendered by helm, the session secrets read back from the rendered ConfigMap and Secret, and a
// gateway PROCESS runs with them on one real Redis. During each rollout an old and a new pod serve
// together: a cookie issued by either must be accepted by the other (and the cookie one re-signs,
// by the other again). The one-step rotation is shown to log people out.
import t, { type Test } from 'tap'
import { parse } from 'yaml'
import { startDemoApp } from '../../dev/demo/app.js'
import { startEmulator } from '../../dev/emulator/index.js'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { spawnGateway, until, type GatewayProcess } from '../helpers/gateway-process.js'
import { startRedis } from '../helpers/redis.js'
import { CLIENT_ID, CLIENT_SECRET, freePort, stackYaml } from '../helpers/stack.js'
import { findHelm, template } from './helm.js'
import { podEnvironment } from './render-check.js'

const OLD = 'rotation-test-old-secret-0123456789abcdef'
const NEW = 'rotation-test-new-secret-fedcba9876543210'
const REDIS_URL = 'redis://redis-master.dpi.svc:6379/0'

/** the chart's values at each phase of docs/deployment.md "Rotating the cookie secret" */
const PHASES: Record<string, Record<string, string>> = {
  before: { 'secrets.sessionSecret': OLD },
  '1, the new secret accepted': { 'secrets.sessionSecret': OLD, 'secrets.sessionSecretNext': NEW },
  '2, the new secret signs': { 'secrets.sessionSecret': NEW, 'secrets.sessionSecretPrevious': OLD },
  '3, the old secret removed': { 'secrets.sessionSecret': NEW },
}

interface SessionSecrets {
  secrets: string[]
  acceptedSecrets: string[]
}

/** The session secrets a pod of this phase runs with: the rendered configuration, its ${VAR} resolved. */
async function secretsOf(helm: string, values: Record<string, string>): Promise<SessionSecrets> {
  const r = await template(helm, {
    set: { replicaCount: 2 },
    setString: {
      ...values,
      'config.session.store.type': 'redis',
      'secrets.redisUrl': REDIS_URL,
      'secrets.pscClientSecret': CLIENT_SECRET,
    },
  })
  const env = podEnvironment(r).env
  const session = (
    parse(r.one('ConfigMap').data['gateway.yaml'] as string) as {
      session: { secrets: string[]; acceptedSecrets?: string[] }
    }
  ).session
  const resolve = (v: string) => v.replace(/^\$\{([A-Z_]+)\}$/, (_m, name: string) => env[name] ?? `unset ${name}`)
  return { secrets: session.secrets.map(resolve), acceptedSecrets: (session.acceptedSecrets ?? []).map(resolve) }
}

interface Pod {
  name: string
  url: string
  gateway: GatewayProcess
}

const helm = findHelm()
if (!helm) {
  t.fail('no helm binary: set HELM_BIN or run scripts/fetch-helm.sh')
} else {
  t.test(
    "the chart's three-phase rotation: old and new pods accept each other's cookies at every rollout",
    async (t) => {
      const phases = Object.fromEntries(
        await Promise.all(Object.entries(PHASES).map(async ([name, v]) => [name, await secretsOf(helm, v)] as const)),
      )
      t.same(phases.before, { secrets: [OLD], acceptedSecrets: [] })
      t.same(
        phases['1, the new secret accepted'],
        { secrets: [OLD], acceptedSecrets: [NEW] },
        'phase 1: the new secret verifies, the old one still signs',
      )
      t.same(
        phases['2, the new secret signs'],
        { secrets: [NEW, OLD], acceptedSecrets: [] },
        'phase 2: the new one signs, the old one verifies',
      )
      t.same(phases['3, the old secret removed'], { secrets: [NEW], acceptedSecrets: [] })

      const redis = await startRedis()
      t.teardown(() => redis.close())
      const upstream = await startDemoApp(0)
      t.teardown(() => upstream.close())
      const names = Object.keys(PHASES)
      const ports = await Promise.all(names.map(async () => ({ port: await freePort(), admin: await freePort() })))
      const urls = ports.map((p) => `http://127.0.0.1:${p.port}`)
      const emulator = await startEmulator({
        port: 0,
        clients: [
          {
            clientId: CLIENT_ID,
            clientSecret: CLIENT_SECRET,
            redirectUris: urls.map((u) => `${u}/_psc/callback`),
            postLogoutRedirectUris: urls.map((u) => `${u}/_psc/logged-out`),
          },
        ],
      })
      t.teardown(() => emulator.close())

      const pods: Pod[] = []
      t.teardown(async () => {
        for (const p of pods) await p.gateway.stop()
      })
      async function startPod(i: number): Promise<Pod> {
        const { secrets, acceptedSecrets } = phases[names[i]!]!
        const yaml = stackYaml({
          port: ports[i]!.port,
          adminPort: ports[i]!.admin,
          issuer: emulator.issuer,
          upstreamUrl: upstream.url,
          redisUrl: redis.url,
          secrets,
        }).replace('  idleTimeout:', `  acceptedSecrets: ${JSON.stringify(acceptedSecrets)}\n  idleTimeout:`)
        const gateway = spawnGateway(yaml, `phase-${i}`)
        const pod = { name: `the pod of phase ${i}`, url: urls[i]!, gateway }
        pods.push(pod)
        await until(
          `${pod.name} to be ready`,
          async () => {
            if (gateway.child.exitCode !== null) throw new Error(`${pod.name} exited:\n${gateway.output.join('')}`)
            return (await fetch(`http://127.0.0.1:${ports[i]!.admin}/readyz`)).status === 200
          },
          90_000,
        )
        return pod
      }

      /** status of a protected page on `to` with the session cookie `from` issued or last set */
      async function carry(client: BrowserLikeClient, from: Pod, to: Pod): Promise<number> {
        const cookie = client.cookieValue(from.url, 'psc_session')
        if (cookie === undefined) throw new Error(`no session cookie from ${from.name}`)
        client.setCookie(to.url, { name: 'psc_session', value: cookie })
        return (await client.get(`${to.url}/dossier?format=json`)).status
      }

      /** a login through each pod; its cookie on the other pod, and what that pod set back on the first */
      async function rollout(t: Test, old: Pod, fresh: Pod, resigned = false): Promise<void> {
        for (const [issuer, other] of [
          [old, fresh],
          [fresh, old],
        ] as const) {
          const client = new BrowserLikeClient()
          const landed = await loginThroughEmulator(client, `${issuer.url}/dossier?format=json`, '899700218896')
          t.equal(landed.status, 200, `logged in through ${issuer.name}`)
          const issued = client.cookieValue(issuer.url, 'psc_session')
          t.equal(await carry(client, issuer, other), 200, `${other.name} accepts the cookie ${issuer.name} issued`)
          if (resigned && issuer === old)
            t.not(
              client.cookieValue(other.url, 'psc_session'),
              issued,
              `${other.name} re-signed it with the new secret`,
            )
          t.equal(await carry(client, other, issuer), 200, `${issuer.name} accepts it back`)
        }
      }

      const [p0, p1, p2] = await Promise.all([startPod(0), startPod(1), startPod(2)])
      // What the one-step rotation did: a pod signing with the new secret next to one that never heard of it.
      const client = new BrowserLikeClient()
      await loginThroughEmulator(client, `${p2.url}/dossier?format=json`, '899700218896')
      t.not(
        await carry(client, p2, p0),
        200,
        'one step (old pods next to pods signing with the new secret): the old pods refuse the new cookies',
      )

      await t.test('rollout to phase 1', (t) => rollout(t, p0, p1))
      await p0.gateway.stop()
      await t.test('rollout to phase 2', (t) => rollout(t, p1, p2, true))
      await p1.gateway.stop()
      const p3 = await startPod(3)
      await t.test('rollout to phase 3', (t) => rollout(t, p2, p3))
    },
  )
}
