// What an error thrown while serving a request answers: its code, page context, log level and whether the connection can be reused.
import { definitionOf, PSC_ERR, type PscErrorCode } from '../errors.js'
import { BodyTooLarge } from '../proxy/body-limit.js'
import { SessionStoreUnavailable } from '../session/store.js'

/** What fastify, the rate limit, our endpoints or the body limit may throw: an Error, often with a code and a status. */
export interface ThrownError {
  name: string
  message: string
  code?: string
  statusCode?: number
}

export interface ErrorOutcomeInput {
  /** the Retry-After header @fastify/rate-limit has already set on the reply, if any */
  retryAfter: unknown
  /** fastify's bodyLimit, the limit of a body to one of our own endpoints */
  bodyLimit: number
}

export interface ErrorOutcome {
  code: PscErrorCode
  detail?: string
  context?: { retryAfterSeconds?: number; limitBytes?: number; retryHref?: string; status?: number }
  /** unhandled: the full error to the operational log; dependency: a warning operators watch; client: information */
  log: 'unhandled' | 'dependency' | 'client'
  /** a body too large is not read to its end: the connection cannot serve another request */
  closeConnection: boolean
}

/** fastify's, the rate limit's and our own errors, each to its outcome code. Pure: the reply's facts come in `input`. */
export function errorOutcome(error: ThrownError, input: ErrorOutcomeInput): ErrorOutcome {
  const { code, detail, context } = outcomeCode(error, input)
  const log = code === PSC_ERR.INTERNAL.code ? 'unhandled' : definitionOf(code).status >= 500 ? 'dependency' : 'client'
  return {
    code,
    ...(detail !== undefined && { detail }),
    ...(context !== undefined && { context }),
    log,
    closeConnection: code === PSC_ERR.PAYLOAD_TOO_LARGE.code,
  }
}

function outcomeCode(error: ThrownError, input: ErrorOutcomeInput): Pick<ErrorOutcome, 'code' | 'detail' | 'context'> {
  // Any endpoint that needs the store (CIBA's shared state, its abuse limits) fails closed the same way.
  if (error instanceof SessionStoreUnavailable) return { code: PSC_ERR.STORE_UNAVAILABLE.code, detail: error.reason }
  const status = error.statusCode ?? 500
  if (status === 429)
    return { code: PSC_ERR.TOO_MANY_REQUESTS.code, context: { retryAfterSeconds: Number(input.retryAfter) || 60 } }
  if (status === 413) {
    // A proxied body over limits.maxBodySize, or a body to one of our own endpoints over fastify's bodyLimit.
    const limit = error instanceof BodyTooLarge ? error.limit : input.bodyLimit
    const setting = error instanceof BodyTooLarge ? 'limits.maxBodySize' : 'bodyLimit'
    return {
      code: PSC_ERR.PAYLOAD_TOO_LARGE.code,
      detail: `${limit} bytes (${setting})`,
      context: { limitBytes: limit },
    }
  }
  if (status >= 400 && status < 500)
    return { code: PSC_ERR.BAD_REQUEST.code, detail: `${error.code ?? status}: ${error.message}`, context: { status } }
  return { code: PSC_ERR.INTERNAL.code, detail: error.code ?? error.name }
}
