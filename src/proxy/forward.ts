// Forwarding an authorised request to its upstream: HTTP with @fastify/reply-from (undici), WebSocket
// upgrades with @fastify/http-proxy. The access gate runs before (onRequest); here the request is
// already allowed and carries its route, upstream and identity. The path sent upstream is the
// normalised path that was authorised.
import httpProxy from '@fastify/http-proxy'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'
import replyFrom from '@fastify/reply-from'
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
import { sanitizeResponseHeaders } from './response-headers.js'
import { clientHeadersForUpstream } from './strip-headers.js'

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

export async function registerForwarding(app: FastifyInstance, opts: ForwardOptions): Promise<void> {
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

  function onUpstreamError(reply: FastifyReply, { error }: { error: Error & { statusCode?: number } }) {
    const tooLarge = bodyTooLargeIn(error)
    if (tooLarge !== undefined) {
      // The client's body went over the limit while it streamed: the upstream request was aborted.
      return void reply.code(413).send(tooLarge)
    }
    const target = targetOf(reply.request)
    const code = error.statusCode === 504 ? PSC_ERR.UPSTREAM_TIMEOUT.code : PSC_ERR.UPSTREAM_UNAVAILABLE.code
    if (target) observer?.error(target.upstream.name, error, secondsSinceForwarded(reply.request))
    reply.request.log.warn(
      {
        code,
        upstream: target?.upstream.name,
        err: { message: error.message, code: (error as { code?: string }).code },
      },
      'upstream error',
    )
    sendCode(reply.request, reply, code, { retryHref: reply.request.url })
  }

  // HTTP: reply-from, called by our own route. The gate has already matched the route on the one
  // normalised path (dot segments resolved, encoded "/" and "\\" refused), so http-proxy's own
  // handler would only do that work again: it parses the destination three times with new URL and
  // re-decodes the prefix on every request, about a tenth of the gateway's CPU per request.
  // reply-from keeps its own traversal and origin checks.
  const replyOptions = {
    rewriteRequestHeaders: (request: FastifyRequest, headers: IncomingHttpHeaders) => {
      const target = targetOf(request)
      return target ? upstreamHeaders(request, headers, target) : headers
    },
    rewriteHeaders: sanitizeResponseHeaders,
    onError: onUpstreamError,
    onResponse: (request: FastifyRequest, reply: FastifyReply, res: { statusCode: number; stream: unknown }) => {
      const target = targetOf(request)
      if (target) observer?.response(target.upstream.name, res.statusCode, secondsSinceForwarded(request))
      return reply.send(res.stream)
    },
    // The gate already decided; reply-from must not retry a request on its own (side effects).
    retryDelay: () => null,
  }
  // Options of reply.from per upstream, made once: no object spread per request. A reload brings new
  // UpstreamSettings objects, hence new entries; the old ones go with them.
  const fromOptionsByUpstream = new WeakMap<UpstreamSettings, object>()
  const fromOptionsFor = (upstream: UpstreamSettings): object => {
    let made = fromOptionsByUpstream.get(upstream)
    if (made === undefined) {
      const url = upstream.url
      made = { ...replyOptions, getUpstream: () => url, timeout: upstream.timeoutMs }
      fromOptionsByUpstream.set(upstream, made)
    }
    return made
  }
  const forward = (request: FastifyRequest, reply: FastifyReply) => {
    const target = targetOf(request)
    if (!target) throw new Error('request reached the proxy without an access decision')
    // Exactly the normalised path that was authorised; reply-from adds the raw query string.
    const q = request.url.indexOf('?')
    const path = q === -1 ? request.url : request.url.slice(0, q)
    request.pscForwardedAt = performance.now()
    return reply.from((target.rules.basePath.get(target.upstream.name) ?? '') + path, fromOptionsFor(target.upstream))
  }

  const websocket = Object.values(config.upstreams).some((u) => u.websocket)
  // Upgrades go to http-proxy's WebSocket proxy: a route constraint sends it exactly the requests
  // Node hands over as upgrades (req.upgrade), and every other request to the HTTP route.
  if (websocket) app.addConstraintStrategy(upgradeConstraint)

  await app.register(async (scope) => {
    scope.addHook('onRequest', opts.gate)
    await scope.register(async (http) => {
      await http.register(replyFrom, { disableRequestLogging: true })
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
}

/** undici and reply-from wrap the body stream's error: look for ours along the causes. */
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
