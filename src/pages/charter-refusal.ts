// The refusal of a request that may not be sent to the IT charter's page (an API call, an XHR, a
// sub-resource, a form post): 403 with JSON for a script, the page for a browser's form, a line of
// plain text for anything else; each says where the charter is to be accepted.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { PSC_ERR } from '../errors.js'
import { requestKind } from '../policy/request-kind.js'
import { pageLanguage } from './language.js'
import { sendCode, wantsJson } from './respond.js'

const CODE = PSC_ERR.CHARTER_REQUIRED

export function sendCharterRefusal(request: FastifyRequest, reply: FastifyReply, charterHref: string): FastifyReply {
  reply.code(CODE.status).header('cache-control', 'no-store')
  if (wantsJson(request)) {
    return reply.type('application/json; charset=utf-8').send({
      error: CODE.code,
      message:
        pageLanguage(request.headers['accept-language']) === 'en'
          ? 'The IT charter in force must be accepted first.'
          : "La charte d'utilisation en vigueur doit d'abord être acceptée.",
      charter: charterHref,
      requestId: request.id,
    })
  }
  if (requestKind(request.headers) === 'navigation') return sendCode(request, reply, CODE.code)
  return reply
    .type('text/plain; charset=utf-8')
    .header('x-content-type-options', 'nosniff')
    .send(`${CODE.code}: charte d'utilisation à accepter / IT charter to accept: ${charterHref}\n`)
}
