// The error outcome, table-driven: every kind of error a request can throw, to the code, page context, log level and connection fate it answers with.
import t from 'tap'
import { errorCodes } from 'fastify'
import { PSC_ERR } from '../../src/errors.js'
import { BodyTooLarge } from '../../src/proxy/body-limit.js'
import { errorOutcome, type ErrorOutcome, type ThrownError } from '../../src/server/error-outcome.js'
import { SessionStoreUnavailable } from '../../src/session/store.js'

const BODY_LIMIT = 1048576

/** an error as fastify's plugins throw them: a message, sometimes a code and a status */
function thrown(message: string, fields: { code?: string; statusCode?: number; name?: string } = {}): ThrownError {
  const error = Object.assign(
    new Error(message),
    fields.code !== undefined && { code: fields.code },
    fields.statusCode !== undefined && { statusCode: fields.statusCode },
  )
  if (fields.name !== undefined) error.name = fields.name
  return error
}

/** the body stream's error when the client goes away mid-body: fastify's parser makes it a 400 */
const clientAbort = thrown('aborted', { code: 'ECONNRESET', statusCode: 400 })

const cases: Array<{
  name: string
  error: ThrownError
  retryAfter?: unknown
  bodyLimit?: number
  expect: ErrorOutcome
}> = [
  {
    name: 'the session store is unreachable: 503, fails closed, a warning for operators',
    error: new SessionStoreUnavailable('connect ECONNREFUSED 127.0.0.1:6379'),
    expect: {
      code: PSC_ERR.STORE_UNAVAILABLE.code,
      detail: 'connect ECONNREFUSED 127.0.0.1:6379',
      log: 'dependency',
      closeConnection: false,
    },
  },
  {
    name: 'the store is unreachable even when the error carries a status: the store wins',
    error: Object.assign(new SessionStoreUnavailable('timeout'), { statusCode: 400 }),
    expect: { code: PSC_ERR.STORE_UNAVAILABLE.code, detail: 'timeout', log: 'dependency', closeConnection: false },
  },
  {
    name: "the rate limit: its Retry-After header becomes the page's wait",
    error: thrown('Rate limit exceeded', { statusCode: 429 }),
    retryAfter: '17',
    expect: {
      code: PSC_ERR.TOO_MANY_REQUESTS.code,
      context: { retryAfterSeconds: 17 },
      log: 'client',
      closeConnection: false,
    },
  },
  {
    name: 'the rate limit with a numeric Retry-After',
    error: thrown('Rate limit exceeded', { statusCode: 429 }),
    retryAfter: 5,
    expect: {
      code: PSC_ERR.TOO_MANY_REQUESTS.code,
      context: { retryAfterSeconds: 5 },
      log: 'client',
      closeConnection: false,
    },
  },
  {
    name: 'the rate limit without Retry-After: a minute',
    error: thrown('Rate limit exceeded', { statusCode: 429 }),
    expect: {
      code: PSC_ERR.TOO_MANY_REQUESTS.code,
      context: { retryAfterSeconds: 60 },
      log: 'client',
      closeConnection: false,
    },
  },
  {
    name: 'the rate limit with an unreadable Retry-After: a minute',
    error: thrown('Rate limit exceeded', { statusCode: 429 }),
    retryAfter: 'soon',
    expect: {
      code: PSC_ERR.TOO_MANY_REQUESTS.code,
      context: { retryAfterSeconds: 60 },
      log: 'client',
      closeConnection: false,
    },
  },
  {
    name: 'a proxied body over limits.maxBodySize: its own limit is named, the connection is closed',
    error: new BodyTooLarge(2048),
    expect: {
      code: PSC_ERR.PAYLOAD_TOO_LARGE.code,
      detail: '2048 bytes (limits.maxBodySize)',
      context: { limitBytes: 2048 },
      log: 'client',
      closeConnection: true,
    },
  },
  {
    name: "a body to one of our endpoints over fastify's bodyLimit: that limit is named, the connection is closed",
    error: new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(),
    bodyLimit: 4096,
    expect: {
      code: PSC_ERR.PAYLOAD_TOO_LARGE.code,
      detail: '4096 bytes (bodyLimit)',
      context: { limitBytes: 4096 },
      log: 'client',
      closeConnection: true,
    },
  },
  {
    name: 'a content type no parser reads: a 4xx from fastify, its code in the detail, its status on the page',
    error: new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE('text/x-unknown'),
    expect: {
      code: PSC_ERR.BAD_REQUEST.code,
      detail: 'FST_ERR_CTP_INVALID_MEDIA_TYPE: Unsupported Media Type text/x-unknown',
      context: { status: 415 },
      log: 'client',
      closeConnection: false,
    },
  },
  {
    name: 'malformed JSON to one of our endpoints: 400',
    error: thrown('Unexpected token } in JSON at position 1', { statusCode: 400 }),
    expect: {
      code: PSC_ERR.BAD_REQUEST.code,
      detail: '400: Unexpected token } in JSON at position 1',
      context: { status: 400 },
      log: 'client',
      closeConnection: false,
    },
  },
  {
    name: "the client went away mid-body: a client error, not the gateway's",
    error: clientAbort,
    expect: {
      code: PSC_ERR.BAD_REQUEST.code,
      detail: 'ECONNRESET: aborted',
      context: { status: 400 },
      log: 'client',
      closeConnection: false,
    },
  },
  {
    name: "the last 4xx status is still the client's",
    error: thrown('client closed request', { statusCode: 499 }),
    expect: {
      code: PSC_ERR.BAD_REQUEST.code,
      detail: '499: client closed request',
      context: { status: 499 },
      log: 'client',
      closeConnection: false,
    },
  },
  {
    name: "a bug (no status): 500, named by the error's class, the full error to the log",
    error: new TypeError('cannot read properties of undefined'),
    expect: { code: PSC_ERR.INTERNAL.code, detail: 'TypeError', log: 'unhandled', closeConnection: false },
  },
  {
    name: 'a 5xx with a code: 500, named by its code',
    error: thrown('upstream failed', { code: 'FST_REPLY_FROM_INTERNAL_SERVER_ERROR', statusCode: 502 }),
    expect: {
      code: PSC_ERR.INTERNAL.code,
      detail: 'FST_REPLY_FROM_INTERNAL_SERVER_ERROR',
      log: 'unhandled',
      closeConnection: false,
    },
  },
  {
    name: 'a status below 400 on an error is not a client error: 500',
    error: thrown('moved', { statusCode: 302 }),
    expect: { code: PSC_ERR.INTERNAL.code, detail: 'Error', log: 'unhandled', closeConnection: false },
  },
]

for (const c of cases) {
  t.test(c.name, async (t) => {
    t.strictSame(errorOutcome(c.error, { retryAfter: c.retryAfter, bodyLimit: c.bodyLimit ?? BODY_LIMIT }), c.expect)
  })
}

t.test('every outcome code the function can answer is covered by the table', async (t) => {
  const covered = new Set(cases.map((c) => c.expect.code))
  t.strictSame(
    [...covered].sort(),
    [
      PSC_ERR.STORE_UNAVAILABLE.code,
      PSC_ERR.TOO_MANY_REQUESTS.code,
      PSC_ERR.PAYLOAD_TOO_LARGE.code,
      PSC_ERR.BAD_REQUEST.code,
      PSC_ERR.INTERNAL.code,
    ].sort(),
  )
})
