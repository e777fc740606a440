// One way to answer with an error or a notice: an HTML page for a person, JSON for a script.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { PAGE_HEADERS, renderPage, type PageContent } from './html.js'

/** API and XHR callers get JSON (and 401 rather than a redirect to the login page). */
export function wantsJson(request: FastifyRequest): boolean {
  const h = request.headers
  if (h['x-requested-with'] !== undefined) return true
  const accept = h.accept
  if (typeof accept !== 'string') return false
  return accept.includes('application/json') && !accept.includes('text/html')
}

export interface Problem extends Omit<PageContent, 'requestId'> {
  status: number
  /** stable machine-readable code, e.g. "access_denied" */
  code: string
  /** extra fields for the JSON form */
  json?: Record<string, unknown>
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: Problem): FastifyReply {
  reply.code(problem.status)
  if (wantsJson(request)) {
    return reply
      .header('cache-control', 'no-store')
      .type('application/json; charset=utf-8')
      .send({ error: problem.code, message: problem.paragraphs[0] ?? problem.title, requestId: request.id, ...problem.json })
  }
  return reply.headers(PAGE_HEADERS).send(renderPage({ ...problem, requestId: request.id }))
}

export function sendPage(reply: FastifyReply, page: PageContent, status = 200): FastifyReply {
  return reply.code(status).headers(PAGE_HEADERS).send(renderPage(page))
}
