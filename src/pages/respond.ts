// One way to answer with an error or a notice: an HTML page for a person, JSON for a script.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { PscErrorCode } from '../errors.js'
import { PAGE_HEADERS, renderPage, type PageContent } from './html.js'
import { pageLanguage } from './language.js'
import { problemFor, type Problem, type ProblemContext } from './problems.js'

/** API and XHR callers get JSON (and 401 rather than a redirect to the login page). */
export function wantsJson(request: FastifyRequest): boolean {
  const h = request.headers
  if (h['x-requested-with'] !== undefined) return true
  const accept = h.accept
  if (typeof accept !== 'string') return false
  return accept.includes('application/json') && !accept.includes('text/html')
}

export type { Problem }

export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: Problem): FastifyReply {
  reply.code(problem.status)
  if (wantsJson(request)) {
    return reply
      .header('cache-control', 'no-store')
      .type('application/json; charset=utf-8')
      .send({
        error: problem.code,
        message: problem.paragraphs[0] ?? problem.title,
        requestId: request.id,
        ...problem.json,
      })
  }
  const lang = pageLanguage(request.headers['accept-language'])
  return reply
    .headers(PAGE_HEADERS)
    .header('content-language', lang)
    .send(renderPage({ ...problem, requestId: request.id, lang }))
}

/** Answers with the page (or JSON) of an outcome code, in the client's language. */
export function sendCode(
  request: FastifyRequest,
  reply: FastifyReply,
  code: PscErrorCode,
  context: Omit<ProblemContext, 'lang'> = {},
): FastifyReply {
  return sendProblem(
    request,
    reply,
    problemFor(code, {
      homeHref: homeFor(request.url),
      ...context,
      lang: pageLanguage(request.headers['accept-language']),
    }),
  )
}

/** The application's home page, the way out of a refused request; none when it was the page refused. */
function homeFor(url: string): string | undefined {
  const q = url.indexOf('?')
  return (q === -1 ? url : url.slice(0, q)) === '/' ? undefined : '/'
}

export function sendPage(reply: FastifyReply, page: PageContent, status = 200): FastifyReply {
  return reply.code(status).headers(PAGE_HEADERS).send(renderPage(page))
}
