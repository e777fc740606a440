// The operational logger and the fastify instance the gateway serves on, with the options that shape every request before our code runs.
import fastifyCookie from '@fastify/cookie'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { randomUUID } from 'node:crypto'
import { pino, type DestinationStream, type Logger } from 'pino'
import { AUDIT_FINISHED } from '../audit/trail.js'
import type { GatewayConfig } from '../config/types.js'
import { answerClientError } from '../ops/client-error.js'
import { lazyChildLogger } from '../ops/request-logger.js'
import { cookieSecrets } from '../session/cookies.js'
import { rewriteUrl } from './request-hooks.js'
import { httpsServerOptions } from './tls-options.js'

/** `worker`: this process is one worker of `serve`'s cluster, named on each of its lines. */
export function createLogger(config: GatewayConfig, stream: DestinationStream | undefined, worker?: number): Logger {
  return pino(
    {
      level: config.log.level,
      base: worker === undefined ? { log: 'app' } : { log: 'app', worker },
      redact: [
        'req.headers.cookie',
        'req.headers.authorization',
        '*.clientSecret',
        '*.secrets',
        '*.acceptedSecrets',
        '*.hmacKey',
        '*.bindPassword',
      ],
    },
    stream ?? pino.destination({ dest: 1, sync: false }),
  )
}

export async function createFastifyApp(config: GatewayConfig, logger: Logger): Promise<FastifyInstance> {
  const http = {
    maxHeaderSize: config.limits.maxHeaderSize,
    headersTimeout: config.limits.headersTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.min(5000, Math.floor(config.limits.headersTimeoutMs / 4))),
  }
  const tls = config.listen.tls
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Requests are recorded once, in the audit trail; the operational log keeps to events.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger,
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // While draining, requests still come through our hooks, which answer the 503 page (French for
    // a browser, JSON for a script) with Connection: close, instead of fastify's English JSON.
    return503OnClosing: false,
    // Requests Node's parser refuses (malformed, headers too large) get a complete answer that says
    // Connection: close, rather than a socket cut mid-way (ECONNRESET on the client).
    clientErrorHandler: answerClientError,
    // Oversized heads (431), slow heads and slow bodies (408, then the socket is closed) are cut off
    // by Node's parser before any of our code runs. Node checks the timeouts every
    // connectionsCheckingInterval, so it follows the smallest of them.
    requestTimeout: config.limits.requestTimeoutMs,
    // fastify hands only `https` to https.createServer: the parser limits go along with the TLS settings.
    ...(tls === undefined ? { http } : { https: { ...http, ...httpsServerOptions(tls) } }),
    rewriteUrl,
  }) as unknown as FastifyInstance
  app.decorateRequest('pscScope', null)
  app.decorateRequest(AUDIT_FINISHED as unknown as string, false)
  // Cookies are parsed when read (session/request-cookies.ts), not by a hook on every request.
  await app.register(fastifyCookie, { secret: cookieSecrets(config.session), hook: false })
  return app
}
