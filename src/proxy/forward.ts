// Forwarding an authorised request to its upstream: HTTP by our own exchange on undici's dispatch API
// (upstream-exchange.ts, one pool per upstream origin), WebSocket upgrades by @fastify/http-proxy.
// The access gate runs before (onRequest); here the request is already allowed and carries its
// route, upstream and identity. The path sent upstream is the normalised path that was authorised.
import httpProxy from '@fastify/http-proxy'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'
import type { ConstraintStrategy, Handler, HTTPVersion } from 'find-my-way'
import type { GatewayConfig, UpstreamSettings } from '../config/types.js'
import type { Identity } from '../psc/identity.js'
import type { ExerciceInContext } from '../policy/exercice-in-context.js'
import { PSC_ERR } from '../errors.js'
import { sendCode } from '../pages/respond.js'
import type { AssertionIssuer } from './identity-assertion.js'
import { identityHeaderValues } from './identity-headers.js'
import type { ForwardingRules } from './forwarding-rules.js'
import { BodyTooLarge, limitedBody } from './body-limit.js'
import { clientHeadersForUpstream } from './strip-headers.js'
import { UpstreamExchange, type ExchangeEnds } from './upstream-exchange.js'
import { UpstreamPools } from './upstream-pools.js'

/** What the access gate hands over for an allowed request. */
export interface ForwardTarget {
  upstream: UpstreamSettings
  identity: Identity | undefined
  /** the exercice the request was allowed for: the one the identity headers and the assertion describe */
  exercice: ExerciceInContext
  /** the rules of the configuration the request was authorised under */
  rules: ForwardingRules
  /** PSC access token, for upstreams with forwardAccessToken */
  accessToken?: string | undefined
}

declare module 'fastify' {
  interface FastifyRequest {
    /** performance.now() when the request left for the upstream (upstream latency metric) */
    pscForwardedAt: number
  }
}

export interface ForwardOptions {
  config: GatewayConfig
  /** the access gate: must set a ForwardTarget via `targetOf` or answer the request itself */
  gate: onRequestHookHandler
  targetOf(request: FastifyRequest): ForwardTarget | undefined
  /** names of the gateway's own cookies, never forwarded */
  gatewayCookies: string[]
  /** told of every upstream response (status, seconds to its headers) and every upstream failure */
  upstreamObserver?: UpstreamObserver
  /** signs the identity assertion of the upstreams that ask for one */
  assertions?: AssertionIssuer | undefined
}

export interface UpstreamObserver {
  response(upstream: string, status: number, seconds: number): void
  error(upstream: string, error: unknown, seconds: number): void
}

interface CachedHeaders {
  rules: ForwardingRules
  exercice: number
  structure: number
  values: Record<string, string>
}

/** Exercices in context kept per session: routes allowed for different exercices of one practitioner. */
const MAX_CONTEXTS = 4

/**
 * A session's identity headers are the same on every request for one exercice in context:
 * computed once per identity object (the memory store keeps it for the session's life), exercice
 * in context and configuration.
 */
const identityHeaderCache = new WeakMap<Identity, CachedHeaders[]>()

export function identityHeadersOf(
  identity: Identity,
  rules: ForwardingRules,
  inContext: ExerciceInContext,
): Record<string, string> {
  let cached = identityHeaderCache.get(identity)
  if (cached !== undefined) {
    for (const c of cached)
      if (c.rules === rules && c.exercice === inContext.exercice && c.structure === inContext.structure) return c.values
    // a reload made these rules obsolete: start again
    if (cached[0]!.rules !== rules || cached.length >= MAX_CONTEXTS) cached = undefined
  }
  const values = identityHeaderValues(identity, rules.identity, rules.encoding, inContext)
  const entry = { rules, exercice: inContext.exercice, structure: inContext.structure, values }
  if (cached === undefined) identityHeaderCache.set(identity, [entry])
  else cached.push(entry)
  return values
}

/** What the composition root keeps of forwarding: a reload changes the upstreams. */
export interface Forwarding {
  upstreamsChanged(upstreams: Record<string, UpstreamSettings>): void
}

export async function registerForwarding(app: FastifyInstance, opts: ForwardOptions): Promise<Forwarding> {
  const { config, targetOf } = opts
  const gatewayCookies = new Set(opts.gatewayCookies)
  const observer = opts.upstreamObserver
  // Kept on the request (a decorated number) rather than in a WeakMap: one WeakMap entry per
  // request costs the garbage collector more than the whole measurement. The scope is frozen.
  app.decorateRequest('pscForwardedAt', 0)
  const secondsSinceForwarded = (request: FastifyRequest) => {
    const at = request.pscForwardedAt
    return at === 0 ? 0 : (performance.now() - at) / 1000
  }

  function upstreamHeaders(
    request: FastifyRequest,
    clientHeaders: IncomingHttpHeaders,
    target: ForwardTarget,
  ): IncomingHttpHeaders {
    const rules = target.rules
    const headers: IncomingHttpHeaders = clientHeadersForUpstream(clientHeaders, rules.strip, gatewayCookies)
    if (target.identity) {
      Object.assign(headers, identityHeadersOf(target.identity, rules, target.exercice))
      const assertion = opts.assertions?.headerFor(
        target.identity,
        target.upstream,
        rules.identity,
        request.pscScope?.session,
        target.exercice,
      )
      if (assertion !== undefined) headers[assertion.name.toLowerCase()] = assertion.value
    }
    // Static headers of the upstream (e.g. a shared secret it checks). Their names are in the strip
    // rules, so a client-sent copy (any case, "_" for "-") is already gone.
    const statics = target.upstream.headers
    if (statics !== undefined) for (const name in statics) headers[name.toLowerCase()] = statics[name]
    if (target.accessToken) headers.authorization = `Bearer ${target.accessToken}`
    // request.ips is the chain fastify trusted (only hops from configured trusted proxies).
    headers['x-forwarded-for'] = request.ips ? [...request.ips].reverse().join(', ') : request.ip
    headers['x-forwarded-proto'] = request.protocol
    headers['x-forwarded-host'] = request.host
    headers[rules.requestIdHeader] = request.id
    return headers
  }

  const pools = new UpstreamPools(config.upstreams)
  const ends: ExchangeEnds = {
    answered(request, status) {
      const target = targetOf(request)
      if (target) observer?.response(target.upstream.name, status, secondsSinceForwarded(request))
    },
    failed(request, reply, error) {
      const tooLarge = bodyTooLargeIn(error)
      // The client's body went over the limit while it streamed: the upstream request was aborted.
      if (tooLarge !== undefined) return void reply.code(413).send(tooLarge)
      const target = targetOf(request)
      const code = isTimeout(error) ? PSC_ERR.UPSTREAM_TIMEOUT.code : PSC_ERR.UPSTREAM_UNAVAILABLE.code
      if (target) observer?.error(target.upstream.name, error, secondsSinceForwarded(request))
      request.log.warn(
        {
          code,
          upstream: target?.upstream.name,
          err: { message: error.message, code: (error as { code?: string }).code },
        },
        'upstream error',
      )
      sendCode(request, reply, code, { retryHref: request.url })
    },
    broken(request, error) {
      request.log.warn(
        {
          upstream: targetOf(request)?.upstream.name,
          err: { message: error.message, code: (error as { code?: string }).code },
        },
        'upstream error after the response started: response cut',
      )
    },
  }

  // HTTP: our own route. The gate has already matched the route on the one normalised path (dot
  // segments resolved, encoded "/" and "\\" refused, nothing outside ASCII), so the path is sent as
  // it is, under the upstream's base path, with the raw query string: no URL parse per request.
  const forward = (request: FastifyRequest, reply: FastifyReply) => {
    const target = targetOf(request)
    if (!target) throw new Error('request reached the proxy without an access decision')
    const link = pools.linkOf(target.upstream)
    const headers = upstreamHeaders(request, request.headers, target)
    headers.host = link.host
    const url = request.url
    request.pscForwardedAt = performance.now()
    link.pool.dispatch(
      {
        path: (target.rules.basePath.get(target.upstream.name) ?? '') + url,
        method: request.method as 'GET',
        headers,
        body: (request.body as Readable | undefined) ?? null,
        headersTimeout: link.timeout,
        bodyTimeout: link.timeout,
      },
      new UpstreamExchange(request, reply, ends),
    )
  }
  app.addHook('onClose', () => pools.close())

  const websocket = Object.values(config.upstreams).some((u) => u.websocket)
  // Upgrades go to http-proxy's WebSocket proxy: a route constraint sends it exactly the requests
  // Node hands over as upgrades (req.upgrade), and every other request to the HTTP route.
  if (websocket) app.addConstraintStrategy(upgradeConstraint)

  await app.register(async (scope) => {
    scope.addHook('onRequest', opts.gate)
    await scope.register(async (http) => {
      // Bodies are streamed to the upstream as they come, never parsed, up to limits.maxBodySize.
      const maxBodySize = config.limits.maxBodySize
      const passThrough = (
        request: FastifyRequest,
        payload: Readable,
        done: (err: Error | null, body?: unknown) => void,
      ) => {
        const body = limitedBody(payload, request.headers['content-length'], maxBodySize)
        if (body instanceof BodyTooLarge) done(body)
        else done(null, body)
      }
      // Every type, text/plain and JSON included (fastify would otherwise buffer and parse those).
      http.removeAllContentTypeParsers()
      http.addContentTypeParser('*', passThrough)
      for (const url of ['/', '/*']) http.route({ url, method: [...PROXIED_METHODS], handler: forward })
    })
    if (!websocket) return
    await scope.register(httpProxy, {
      upstream: '',
      prefix: '/',
      websocket: true,
      httpMethods: ['GET'],
      constraints: { [upgradeConstraint.name]: UPGRADE },
      disableRequestLogging: true,
      // The WebSocket proxy finds the upstream here.
      replyOptions: {
        getUpstream: (request: FastifyRequest) => targetOf(request)?.upstream.url ?? 'http://upstream.invalid',
      },
      wsClientOptions: {
        rewriteRequestHeaders: (_headers: object, request: FastifyRequest) => {
          const target = targetOf(request)
          const base: IncomingHttpHeaders = {}
          if (typeof request.headers.cookie === 'string') base.cookie = request.headers.cookie
          return target ? upstreamHeaders(request, base, target) : base
        },
      },
    } as never)
  })
  return { upstreamsChanged: (upstreams) => pools.keepOnly(upstreams) }
}

/** Timed out connecting, or waiting for the answer's head (upstream.timeout). */
function isTimeout(error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT'
}

/** undici may wrap the body stream's error: look for ours along the causes. */
function bodyTooLargeIn(error: unknown): BodyTooLarge | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++)
    if (e instanceof BodyTooLarge) return e
  return undefined
}

/** Methods forwarded upstream (http-proxy's list); any other is answered 404 by the gateway. */
const PROXIED_METHODS = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS'] as const

const UPGRADE = 'upgrade'

/**
 * Node sets req.upgrade only on a request it hands to the server's 'upgrade' listeners (Connection:
 * upgrade, and a listener exists): those alone are routed to the WebSocket proxy.
 */
const upgradeConstraint: ConstraintStrategy<HTTPVersion.V1, string | undefined> = {
  name: 'pscUpgrade',
  storage() {
    const handlers = new Map<string | undefined, Handler<HTTPVersion.V1>>()
    return {
      get: (value) => handlers.get(value) ?? null,
      set: (value, handler) => void handlers.set(value, handler),
    }
  },
  deriveConstraint: (req) => ((req as IncomingMessage & { upgrade?: boolean }).upgrade === true ? UPGRADE : undefined),
  mustMatchWhenDerived: false,
}
