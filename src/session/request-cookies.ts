// The request's cookies, parsed when first asked for. @fastify/cookie is registered with `hook:
// false`: its per-request hook parsed every Cookie header and made a Map for cookies to set on
// every response, including the many that neither read nor set one.
import type { FastifyRequest } from 'fastify'

export function requestCookies(request: FastifyRequest): Record<string, string | undefined> {
  if (request.cookies === null) {
    const header = request.headers.cookie
    request.cookies = header ? request.server.parseCookie(header) : {}
  }
  return request.cookies
}
