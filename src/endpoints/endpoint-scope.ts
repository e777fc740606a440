// The scope of a request to one of the gateway's own endpoints: route "gateway:<endpoint>", the
// decision, and the outcome code when it is not a plain success.
import type { FastifyRequest } from 'fastify'
import { setScope, type Decision, type RequestScope } from '../scope.js'

export function endpointScope(
  request: FastifyRequest,
  decision: Decision,
  facts: Omit<RequestScope, 'decision' | 'route'> = {},
): void {
  const url = request.url
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  const slash = path.indexOf('/', 1)
  setScope(request, { decision, route: `gateway:${slash === -1 ? path.slice(1) : path.slice(slash + 1)}`, ...facts })
}
