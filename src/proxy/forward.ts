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
import { compileStripRules, stripGatewayOwnedHeaders, withoutCookies } from './strip-headers.js'

/** What the access gate hands over for an allowed request. */
export interface ForwardTarget {
  upstream: UpstreamSettings
  identity: Identity | undefined
}

export interface ForwardOptions {
  config: GatewayConfig
  /** the access gate: must set a ForwardTarget via `targetOf` or answer the request itself */
  gate: onRequestHookHandler
  targetOf(request: FastifyRequest): ForwardTarget | undefined
  /** names of the gateway's own cookies, never forwarded */
  gatewayCookies: string[]
}

export async function registerForwarding(app: FastifyInstance, opts: ForwardOptions): Promise<void> {
  const { config, targetOf } = opts
  const h = config.headers
  const stripRules = compileStripRules(h.stripPrefixes, [...h.identity.map((i) => i.header), h.requestId])
  const gatewayCookies = new Set(opts.gatewayCookies)
  const upstreamBasePath = new Map(Object.values(config.upstreams).map((u) => [u.name, new URL(u.url).pathname.replace(/\/$/, '')]))

  function upstreamHeaders(request: FastifyRequest, headers: IncomingHttpHeaders, target: ForwardTarget): IncomingHttpHeaders {
    stripGatewayOwnedHeaders(headers, stripRules)
    if (typeof headers.cookie === 'string') {
      const kept = withoutCookies(headers.cookie, gatewayCookies)
      if (kept === undefined) delete headers.cookie
      else headers.cookie = kept
    }
    if (target.identity) Object.assign(headers, identityHeaderValues(target.identity, h.identity, h.encoding))
    // request.ips is the chain fastify trusted (only hops from configured trusted proxies).
    headers['x-forwarded-for'] = request.ips ? [...request.ips].reverse().join(', ') : request.ip
    headers['x-forwarded-proto'] = request.protocol
    headers['x-forwarded-host'] = request.host
    headers[h.requestId.toLowerCase()] = request.id
    return headers
  }

  function onUpstreamError(reply: FastifyReply, { error }: { error: Error & { statusCode?: number } }) {
    const target = targetOf(reply.request)
    const status = error.statusCode === 504 ? 504 : 502
    reply.request.log.warn({ upstream: target?.upstream.name, err: { message: error.message, code: (error as { code?: string }).code } }, 'upstream error')
    sendProblem(reply.request, reply, upstreamProblem(status, target?.upstream.name ?? 'inconnue'))
  }

  await app.register(async (scope) => {
    scope.addHook('onRequest', opts.gate)
    await scope.register(httpProxy, {
      upstream: '',
      prefix: '/',
      websocket: Object.values(config.upstreams).some((u) => u.websocket),
      disableRequestLogging: true,
      // The gate already decided; reply-from must not retry a request on its own (side effects).
      replyOptions: {
        getUpstream: (request: FastifyRequest) => targetOf(request)?.upstream.url ?? 'http://upstream.invalid',
        rewriteRequestHeaders: (request: FastifyRequest, headers: IncomingHttpHeaders) => {
          const target = targetOf(request)
          return target ? upstreamHeaders(request, headers, target) : headers
        },
        onError: onUpstreamError,
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
        return reply.from((upstreamBasePath.get(target.upstream.name) ?? '') + path, { ...options, timeout: target.upstream.timeoutMs })
      }
    } as never)
  })
}
