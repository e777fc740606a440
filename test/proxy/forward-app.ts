// The gateway's forwarding route alone (proxy/forward.ts) in a fastify app built as the gateway
// builds it (the normalised path, @fastify/cookie, the scope), with a gate that allows every
// request: shared by the forwarding tests.
import fastifyCookie from '@fastify/cookie'
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import type { GatewayConfig } from '../../src/config/types.js'
import { FIRST_EXERCICE } from '../../src/policy/exercice-in-context.js'
import { normalizeRequestTarget } from '../../src/policy/path.js'
import { compileForwardingRules } from '../../src/proxy/forwarding-rules.js'
import { registerForwarding, type ForwardTarget, type Forwarding } from '../../src/proxy/forward.js'
import type { Identity } from '../../src/psc/identity.js'
import { setScope, type RequestScope } from '../../src/scope.js'
import { UNIT_SECRET } from '../helpers/unit.js'

/** An upstream on 127.0.0.1 (closed with the test); its URL. */
export async function upstreamServer(
  t: Test,
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<string> {
  const server: Server = createServer(handle)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  )
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A port nothing listens on. */
export async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address() as AddressInfo
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

export interface ProxyApp {
  app: FastifyInstance
  scopes: RequestScope[]
  /** the status fastify's onResponse hooks saw, per finished request */
  statuses: number[]
  observed: Array<[string, string, number | string]>
  forwarding: Forwarding
}

export async function proxyApp(
  t: Test,
  config: GatewayConfig,
  target: (config: GatewayConfig) => Omit<ForwardTarget, 'rules'>,
  trustProxy: string[] | false = false,
  /** what the gate does to the reply before it lets the request through (headers, cookies) */
  beforeForward?: (reply: FastifyReply) => void,
): Promise<ProxyApp> {
  const rules = compileForwardingRules(config)
  const app = Fastify({
    trustProxy,
    // as the gateway does: what is matched and forwarded is the one normalised path
    rewriteUrl(raw) {
      const r = normalizeRequestTarget(raw.url ?? '')
      return r.ok ? r.path + r.query : '/invalid'
    },
  })
  app.decorateRequest('pscScope', null)
  await app.register(fastifyCookie, { secret: [UNIT_SECRET], hook: false })
  const scopes: RequestScope[] = []
  const statuses: number[] = []
  const observed: ProxyApp['observed'] = []
  app.addHook('onResponse', (request, reply, done) => {
    if (request.pscScope) scopes.push(request.pscScope)
    statuses.push(reply.statusCode)
    done()
  })
  const forwarding = await registerForwarding(app, {
    config,
    gate: (request, reply, done) => {
      setScope(request, { decision: 'allow', route: 'application', target: { ...target(config), rules } })
      beforeForward?.(reply)
      done()
    },
    targetOf: (request) => request.pscScope?.target,
    gatewayCookies: ['psc_session', 'psc_login'],
    upstreamObserver: {
      response: (upstream, status, seconds) => {
        observed.push(['response', upstream, status])
        if (!(seconds >= 0)) throw new Error('bad seconds')
      },
      error: (upstream, error, seconds) => {
        observed.push(['error', upstream, (error as { code?: string }).code ?? String(error)])
        if (!(seconds >= 0)) throw new Error('bad seconds')
      },
    },
  })
  await app.ready()
  t.teardown(() => app.close())
  return { app, scopes, statuses, observed, forwarding }
}

export const withIdentity = (identity: Identity | undefined, accessToken?: string) => (config: GatewayConfig) => ({
  upstream: config.upstreams.app!,
  identity,
  exercice: FIRST_EXERCICE,
  accessToken,
})
