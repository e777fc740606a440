// <prefix>/jwks.json: the public keys of the identity assertions, for upstreams to verify them.
import type { FastifyInstance } from 'fastify'
import type { AssertionIssuer } from '../proxy/identity-assertion.js'
import { endpointScope } from './endpoint-scope.js'

export function registerJwks(app: FastifyInstance, prefix: string, assertions: AssertionIssuer): void {
  const body = JSON.stringify(assertions.jwks)
  app.get(`${prefix}/jwks.json`, (request, reply) => {
    endpointScope(request, 'allow')
    // Short: a verifier that meets an unknown kid fetches again (jose's createRemoteJWKSet does).
    reply.header('cache-control', 'public, max-age=300').type('application/jwk-set+json').send(body)
  })
}
