// Forwarding an authorised request to its upstream with @fastify/http-proxy (reply-from/undici).
// The access gate runs before (onRequest); here the request is already allowed and carries its
// route, upstream and identity. The path sent upstream is the normalised path that was authorised.
import httpProxy from '@fastify/http-proxy'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import type { IncomingHttpHeaders } from 'node:http'
import type { GatewayConfig, UpstreamSettings } from '../config/types.js'
import type { Identity } from '../psc/identity.js'
import { upstreamProblem } from '../pages/problems.js'
import { sendProblem } from '../pages/respond.js'
import { identityHeaderValues } from './identity-headers.js'
import type { ForwardingRules } from './forwarding-rules.js'
import { clientHeadersForUpstream } from './strip-headers.js'

/** What the access gate hands over for an allowed request. */
export interface ForwardTarget {
  upstream: UpstreamSettings
  identity: Identity | undefined
  /** the rules of the configuration the request was authorised under */
  rules: ForwardingRules
  /** PSC access token, for upstreams with forwardAccessToken */
  accessToken?: string
  /** performance.now() when the request left for the upstream (upstream latency metric) */
  forwardedAt?: number
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
}

export interface UpstreamObserver {
  response(upstream: string, status: number, seconds: number): void
  error(upstream: string, error: unknown, seconds: number): void
}

/**
 * A session's identity headers are the same on every request: computed once per identity object
 * (the memory store keeps it for the session's life) and per configuration.
 */
const identityHeaderCache = new WeakMap<Identity, { rules: ForwardingRules; values: Record<string, string> }>()

function identityHeadersOf(identity: Identity, rules: ForwardingRules): Record<string, string> {
  const cached = identityHeaderCache.get(identity)
  if (cached?.rules === rules) return cached.values
  const values = identityHeaderValues(identity, rules.identity, rules.encoding)
  identityHeaderCache.set(identity, { rules, values })
  return values
}

export async function registerForwarding(app: FastifyInstance, opts: ForwardOptions): Promise<void> {
  const { config, targetOf } = opts
  const gatewayCookies = new Set(opts.gatewayCookies)
  const observer = opts.upstreamObserver
  // Kept on the request's own target rather than in a WeakMap: one WeakMap entry per request costs
  // the garbage collector more than the whole measurement.
  const secondsSinceForwarded = (request: FastifyRequest) => {
    const at = targetOf(request)?.forwardedAt
    return at === undefined ? 0 : (performance.now() - at) / 1000
  }

  function upstreamHeaders(request: FastifyRequest, clientHeaders: IncomingHttpHeaders, target: ForwardTarget): IncomingHttpHeaders {
    const rules = target.rules
    const headers: IncomingHttpHeaders = clientHeadersForUpstream(clientHeaders, rules.strip, gatewayCookies)
    if (target.identity) Object.assign(headers, identityHeadersOf(target.identity, rules))
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
    const target = targetOf(reply.request)
    const status = error.statusCode === 504 ? 504 : 502
    if (target) observer?.error(target.upstream.name, error, secondsSinceForwarded(reply.request))
    reply.request.log.warn({ upstream: target?.upstream.name, err: { message: error.message, code: (error as { code?: string }).code } }, 'upstream error')
    sendProblem(reply.request, reply, upstreamProblem(status, target?.upstream.name ?? 'inconnue'))
  }

  // Options of reply.from per upstream, made once: no object spread per request. A reload brings new
  // UpstreamSettings objects, hence new entries; the old ones go with them.
  const fromOptionsByUpstream = new WeakMap<UpstreamSettings, object>()
  const fromOptionsFor = (upstream: UpstreamSettings, proxyOptions: object): object => {
    let made = fromOptionsByUpstream.get(upstream)
    if (made === undefined) {
      const url = upstream.url
      made = { ...proxyOptions, getUpstream: () => url, timeout: upstream.timeoutMs }
      fromOptionsByUpstream.set(upstream, made)
    }
    return made
  }
  const websocket = Object.values(config.upstreams).some((u) => u.websocket)

  await app.register(async (scope) => {
    scope.addHook('onRequest', opts.gate)
    await scope.register(httpProxy, {
      upstream: '',
      prefix: '/',
      websocket,
      disableRequestLogging: true,
      // The gate already decided; reply-from must not retry a request on its own (side effects).
      replyOptions: {
        // http-proxy requires it (and the WebSocket proxy uses it); HTTP requests take the options
        // made per upstream in the handler below.
        getUpstream: (request: FastifyRequest) => targetOf(request)?.upstream.url ?? 'http://upstream.invalid',
        rewriteRequestHeaders: (request: FastifyRequest, headers: IncomingHttpHeaders) => {
          const target = targetOf(request)
          return target ? upstreamHeaders(request, headers, target) : headers
        },
        onError: onUpstreamError,
        onResponse: (request: FastifyRequest, reply: FastifyReply, res: { statusCode: number; stream: unknown }) => {
          const target = targetOf(request)
          if (target) observer?.response(target.upstream.name, res.statusCode, secondsSinceForwarded(request))
          return reply.send(res.stream)
        },
        retryDelay: () => null
      } as never,
      wsClientOptions: {
        rewriteRequestHeaders: (_headers: object, request: FastifyRequest) => {
          const target = targetOf(request)
          const base: IncomingHttpHeaders = {}
          if (typeof request.headers.cookie === 'string') base.cookie = request.headers.cookie
          return target ? upstreamHeaders(request, base, target) : base
        }
      },
      // Forward exactly the normalised path that was authorised, and the raw query string.
      handler: (request: FastifyRequest, reply: FastifyReply, _dest: string, options: object) => {
        const target = targetOf(request)
        if (!target) throw new Error('request reached the proxy without an access decision')
        const q = request.url.indexOf('?')
        const path = q === -1 ? request.url : request.url.slice(0, q)
        target.forwardedAt = performance.now()
        return reply.from((target.rules.basePath.get(target.upstream.name) ?? '') + path, fromOptionsFor(target.upstream, options))
      }
    } as never)
  })
}
