// A whole gateway stack for integration tests, over real HTTP on loopback: the PSC emulator
// (oidc-provider), the demo app as upstream, and a gateway built from YAML. Audit events and
// operational log lines are captured so tests can assert on them.
import { auditLineProblems } from '../audit/schema-lines.js'
import { Writable } from 'node:stream'
import type { AuditEvent, AuditSink } from '../../src/audit/events.js'
import { loadConfigText } from '../../src/config/load.js'
import type { GatewayConfig } from '../../src/config/types.js'
import { startDemoApp, type RunningDemoApp } from '../../dev/demo/app.js'
import { startEmulator, type RunningEmulator } from '../../dev/emulator/index.js'
import type { EmulatorCibaOptions } from '../../dev/emulator/ciba-backchannel.js'
import { buildGateway, type Gateway } from '../../src/gateway.js'
import { RedisSessionStore } from '../../src/session/redis-store.js'
import { reservePort } from './ports.js'

export const CLIENT_ID = 'psc-gateway-test'
export const CLIENT_SECRET = 'test-client-secret-0b5f1c2e9a7d'

/**
 * The emulator's client for a gateway that will listen on 127.0.0.1:`port` (its callback and
 * logout URLs), for tests that start the emulator before the gateway (e.g. behind a proxy).
 */
export function emulatorClientFor(port: number, extra: { tlsClientAuthSubjectDn?: string } = {}) {
  const url = `http://127.0.0.1:${port}`
  return {
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUris: [`${url}/_psc/callback`],
    postLogoutRedirectUris: [`${url}/_psc/logged-out`],
    backchannelLogoutUri: `${url}/_psc/backchannel-logout`,
    ...extra,
  }
}
export const SESSION_SECRET = 'test-session-secret-0123456789abcdef-AAAA'
/** the dénomination the test client is registered with at the emulator */
export const SERVICE_NAME = 'DPI du CH de Test'

export interface StackOptions {
  /** session secrets, first signs (default [SESSION_SECRET]) */
  secrets?: string[]
  idleTimeout?: string
  absoluteTimeout?: string
  encoding?: 'percent' | 'latin1'
  clientAuth?: 'client_secret_basic' | 'client_secret_post' | 'tls_client_auth'
  acr?: 'eidas1' | 'eidas2' | 'eidas3'
  /** extra YAML appended under `headers:` */
  headersYaml?: string
  now?: () => number
  /** reuse a running emulator (its client must allow this stack's redirect URI) */
  emulator?: RunningEmulator
  /** fix the gateway port (e.g. to restart a gateway on the same URL) */
  port?: number
  /** per-upstream timeout, e.g. "300ms" */
  upstreamTimeout?: string
  /** point the gateway at this issuer instead of starting an emulator (e.g. one that is down) */
  issuer?: string
  /** use the Redis session store at this URL */
  redisUrl?: string
  /** enable the admin listener on this port */
  adminPort?: number
  /** the admin listener's token file (opens its session API) */
  adminTokenFile?: string
  /** session.onePerPractitioner */
  onePerPractitioner?: boolean
  /** the upstream receives the PSC access token */
  forwardAccessToken?: boolean
  /** publicUrl is https (TLS ends at a load balancer in front; the gateway itself listens on http) */
  https?: boolean
  /** use this upstream instead of the demo app (and proxy WebSocket upgrades to it) */
  upstreamUrl?: string
  websocket?: boolean
  revalidateEvery?: string
  /** YAML lines appended under psc: (e.g. serviceName and ciba), indented by two spaces */
  pscYaml?: string
  /** CIBA timings of the emulator this stack starts */
  emulatorCiba?: EmulatorCibaOptions
  /** top-level YAML appended at the end (e.g. an accounts: section) */
  extraYaml?: string
  /** environment for ${VAR} substitution, beside TEST_CLIENT_SECRET */
  env?: Record<string, string>
}

export interface Stack {
  gateway: Gateway
  config: GatewayConfig
  url: string
  /** undefined when the stack was given an issuer instead */
  emulator: RunningEmulator | undefined
  upstream: RunningDemoApp
  audit: AuditEvent[]
  logs: string[]
  close(): Promise<void>
}

/** For a server in another process (redis-server, a gateway process, nginx): see ports.ts. */
export { freePort } from './ports.js'

export function stackYaml(o: { port: number; issuer: string; upstreamUrl: string } & StackOptions): string {
  const secrets = (o.secrets ?? [SESSION_SECRET]).map((s) => `    - "${s}"`).join('\n')
  return `
listen: { host: 127.0.0.1, port: ${o.port} }
publicUrl: ${o.https ? 'https' : 'http'}://127.0.0.1:${o.port}
admin: ${o.adminPort ? `{ enabled: true, host: 127.0.0.1, port: ${o.adminPort}${o.adminTokenFile ? `, tokenFile: "${o.adminTokenFile}", tokenName: soc` : ''} }` : '{ enabled: false }'}
psc:
  environment: custom
  issuer: ${o.issuer}
  clientId: ${CLIENT_ID}
  clientSecret: \${TEST_CLIENT_SECRET}
  clientAuth: ${o.clientAuth ?? 'client_secret_basic'}
  acr: ${o.acr ?? 'eidas1'}
  allowInsecureHttp: true
${o.revalidateEvery ? `  revalidateEvery: ${o.revalidateEvery}\n` : ''}${o.pscYaml ?? ''}session:
  secrets:
${secrets}
  idleTimeout: ${o.idleTimeout ?? '30m'}
  absoluteTimeout: ${o.absoluteTimeout ?? '8h'}
${o.onePerPractitioner ? '  onePerPractitioner: true\n' : ''}${o.redisUrl ? `  store: { type: redis, url: "${o.redisUrl}", keyPrefix: "test:" }\n` : ''}upstreams:
  app: { url: "${o.upstreamUrl}"${o.upstreamTimeout ? `, timeout: ${o.upstreamTimeout}` : ''}${o.forwardAccessToken ? ', forwardAccessToken: true' : ''}${o.websocket ? ', websocket: true' : ''} }
headers:
  encoding: ${o.encoding ?? 'percent'}
${o.headersYaml ?? ''}
routes:
  - name: public
    match: { pathPrefix: /public }
    upstream: app
    access: public
  - name: pharmacie
    match: { pathPrefix: /pharmacie }
    upstream: app
    access: { professions: ["21"] }
  - name: medecins-civils
    match: { pathPrefix: /medecins }
    upstream: app
    access: { professions: ["10"], categories: [C, M] }
  - name: admin
    match: { pathPrefix: /admin, methods: [GET, POST] }
    upstream: app
    access: { idNat: ["899700218896"] }
  - name: application
    upstream: app
    access: authenticated
${o.extraYaml ?? ''}`
}

function capture<T>(sink: T[], parse: (line: string) => T): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) sink.push(parse(line))
      done()
    },
  })
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  // A fixed port (a restart on the same URL) is bound by the gateway; otherwise one is reserved.
  const reserved = opts.port === undefined ? await reservePort() : undefined
  const port = opts.port ?? reserved!.port
  const publicUrl = `${opts.https ? 'https' : 'http'}://127.0.0.1:${port}`
  const upstream = await startDemoApp(0)
  const ownEmulator = opts.emulator === undefined && opts.issuer === undefined
  const emulator =
    opts.emulator ??
    (opts.issuer !== undefined
      ? undefined
      : await startEmulator({
          port: 0,
          clients: [
            {
              clientId: CLIENT_ID,
              clientSecret: CLIENT_SECRET,
              redirectUris: [`${publicUrl}/_psc/callback`],
              postLogoutRedirectUris: [`${publicUrl}/_psc/logged-out`],
              backchannelLogoutUri: `${publicUrl}/_psc/backchannel-logout`,
              serviceName: SERVICE_NAME,
            },
          ],
          ciba: opts.emulatorCiba,
        }))
  const issuer = opts.issuer ?? emulator?.issuer ?? ''
  const { config } = loadConfigText(
    stackYaml({ ...opts, port, issuer, upstreamUrl: opts.upstreamUrl ?? upstream.url }),
    'test-stack.yaml',
    {
      TEST_CLIENT_SECRET: CLIENT_SECRET,
      ...opts.env,
    },
  )
  const audit: AuditEvent[] = []
  const logs: string[] = []
  const auditSink: AuditSink = { write: (e) => void audit.push(JSON.parse(JSON.stringify(e)) as AuditEvent) }
  const gateway = await buildGateway(config, {
    audit: auditSink,
    logStream: capture(logs, (l) => l) as never,
    now: opts.now,
  })
  if (opts.issuer === undefined) await gateway.psc.start()
  // The gateway listens before its Redis connection is up (readiness says so, and a load balancer
  // waits for /readyz); a test's first request must not race that connection (it would get 503).
  if (gateway.sessions.store instanceof RedisSessionStore) await gateway.sessions.store.ready(15_000)
  const { url } = await gateway.listen(reserved)
  return {
    gateway,
    config,
    url: `http://127.0.0.1:${port}`,
    emulator,
    upstream,
    audit,
    logs,
    async close() {
      await gateway.close()
      await upstream.close()
      if (ownEmulator) await emulator?.close()
      void url
      // Every event a test's gateway wrote must match the published schema (issue 13).
      assertSchemaValid(audit)
    },
  }
}

function assertSchemaValid(events: AuditEvent[]): void {
  const bad = events
    .map((e) => ({ e, problems: auditLineProblems({ log: 'audit', ...e }) }))
    .filter((x) => x.problems.length > 0)
  if (bad.length > 0) {
    throw new Error(
      `${bad.length} audit event(s) not valid against docs/audit-events.schema.json, e.g. ${JSON.stringify(bad[0]!.e)}: ${bad[0]!.problems.join('; ')}`,
    )
  }
}
