// limits: request size and time limits, and the login rate limit.
import { Type } from '@sinclair/typebox'
import type { ConfigSection } from '../checks.js'
import { parseDuration } from '../duration.js'
import { withMs } from '../duration-keys.js'
import { Duration } from '../formats.js'

export const LimitsSchema = Type.Object(
  {
    maxHeaderSize: Type.Integer({
      minimum: 1024,
      maximum: 1048576,
      default: 16384,
      description: 'Largest request head (request line and headers) in bytes; larger ones get 431',
    }),
    headersTimeout: Duration({
      default: '20s',
      description:
        'A client must send its whole request head within this time (slow clients get 408 and are disconnected)',
    }),
    requestTimeout: Duration({
      default: '120s',
      description: 'A client must send its whole request, body included, within this time',
    }),
    maxBodySize: Type.Integer({
      minimum: 0,
      default: 104857600,
      description:
        'Largest request body in bytes forwarded to an upstream (default 100 MiB); larger ones get 413 and are not forwarded whole; 0: no limit',
    }),
    rateLimit: Type.Object(
      {
        max: Type.Integer({
          minimum: 0,
          default: 60,
          description:
            'Requests per window and client address on <prefix>/login and on <prefix>/callback (each counted apart); 0 disables',
        }),
        window: Duration({ default: '1m' }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
)

export const limits: ConfigSection<'limits'> = {
  check(raw, checks) {
    // Node refuses a headers timeout longer than the request timeout
    const { headersTimeout, requestTimeout } = raw.limits
    const headersMs = parseDuration(headersTimeout)
    const requestMs = parseDuration(requestTimeout)
    if (headersMs !== undefined && requestMs !== undefined && headersMs > requestMs) {
      checks.error(
        ['limits', 'headersTimeout'],
        `headersTimeout (${headersTimeout}) must not exceed requestTimeout (${requestTimeout})`,
      )
    }
  },
  convert: (raw) => ({ limits: withMs(LimitsSchema, raw.limits) }),
}
