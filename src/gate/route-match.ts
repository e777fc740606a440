// The gate's first step: the route a request matches (never one under the reserved prefix), its
// upstream, and the facts about the request the decision reads, on one snapshot of the routing state.
import type { FastifyRequest } from 'fastify'
import type { GatewayConfig } from '../config/types.js'
import type { RequestFacts } from '../policy/decide-request.js'
import { encodedTwice } from '../policy/double-decoding.js'
import { isPublicHost, publicHostOf } from '../policy/public-host.js'
import { requestKind } from '../policy/request-kind.js'
import { matchRoute } from '../policy/rules.js'
import type { Matched, RequestTarget, RoutingState } from './gate-types.js'

export function createRouteMatch(config: GatewayConfig, routingState: () => RoutingState) {
  const prefix = config.prefix
  const publicHost = publicHostOf(config.publicUrl)

  return function match(request: RequestTarget, received: FastifyRequest): Matched {
    const url = request.url
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    // One snapshot of the routing state for the whole request, even if a reload happens meanwhile.
    const state = routingState()
    // request.host is the Host header, or X-Forwarded-Host from a trusted proxy: the host matched
    // is the host forwarded upstream. Nothing under the reserved prefix is ever forwarded.
    const reserved = path === prefix || path.startsWith(`${prefix}/`)
    const route = reserved ? undefined : matchRoute(state.routes, { host: request.host, method: request.method, path })
    const upstream = route === undefined ? undefined : state.config.upstreams[route.upstream]
    if (route !== undefined && upstream === undefined)
      throw new Error(`route ${route.name} names an unknown upstream ${route.upstream}`)
    const facts: RequestFacts = {
      method: request.method,
      kind: requestKind(received.headers),
      onPublicHost: isPublicHost(request.host, publicHost),
      encodedTwiceForUpstream: upstream?.decodesTwice === true && encodedTwice(path),
    }
    return { url, host: request.host, state, route, upstream, facts }
  }
}
