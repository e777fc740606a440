// One forwarded request's exchange with its upstream, on undici's dispatch API: the answer is written
// straight to the client's response (status, sanitised headers, body chunks with backpressure), with
// no body stream, no promise and no closure per request. Why: this is the hot path, and the request()
// API plus fastify's stream piping cost more main-thread time per request than the rest of the gateway.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { IncomingHttpHeaders, OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { Dispatcher } from 'undici'
import { sanitizeResponseHeaders } from './response-headers.js'

/** What the forwarding route does at the ends of an exchange. */
export interface ExchangeEnds {
  /** the upstream's answer is about to be sent on (metrics) */
  answered(request: FastifyRequest, status: number): void
  /** failed before anything was sent to the client: answer it (413, 502, 504) */
  failed(request: FastifyRequest, reply: FastifyReply, error: Error): void
  /** failed after the head went out: the response is cut (destroyed) */
  broken(request: FastifyRequest, error: Error): void
}

/** An upstream status fastify would refuse to send (it only knows 100 to 599): 502, as reply-from did. */
export class InvalidUpstreamStatus extends Error {
  readonly code = 'PSC_UPSTREAM_BAD_STATUS'
  constructor(status: number) {
    super(`upstream answered with an invalid status code ${status}`)
  }
}

/** The reason given to undici when the client went away. */
export class ClientGone extends Error {
  readonly code = 'PSC_CLIENT_GONE'
  constructor() {
    super('the client closed the connection')
  }
}

const kExchange = Symbol('psc.exchange')
type ExchangeResponse = ServerResponse & { [kExchange]?: UpstreamExchange }

// One listener function for every response; it finds its exchange on the response.
function onResponseClose(this: ExchangeResponse): void {
  if (!this.writableFinished) this[kExchange]?.clientGone()
}
function onResponseDrain(this: ExchangeResponse): void {
  this[kExchange]?.drained()
}

export class UpstreamExchange implements Dispatcher.DispatchHandler {
  readonly #request: FastifyRequest
  readonly #reply: FastifyReply
  readonly #res: ExchangeResponse
  readonly #ends: ExchangeEnds
  #controller: Dispatcher.DispatchController | null = null
  #gone = false
  /** the head went out: from now on, an error can only cut the response */
  #started = false
  #drainListener = false

  constructor(request: FastifyRequest, reply: FastifyReply, ends: ExchangeEnds) {
    this.#request = request
    this.#reply = reply
    this.#ends = ends
    const res = reply.raw as ExchangeResponse
    this.#res = res
    res[kExchange] = this
    res.on('close', onResponseClose)
  }

  clientGone(): void {
    this.#gone = true
    // Before undici started the request there is nothing to abort yet: onRequestStart does it.
    this.#controller?.abort(new ClientGone())
  }

  drained(): void {
    this.#controller?.resume()
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    if (this.#gone) controller.abort(new ClientGone())
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    status: number,
    upstreamHeaders: IncomingHttpHeaders,
  ): void {
    if (this.#gone) return controller.abort(new ClientGone())
    const request = this.#request
    const reply = this.#reply
    if (status > 599) {
      // abort first: undici then reports the error, and failed() answers 502 from onResponseError
      return controller.abort(new InvalidUpstreamStatus(status))
    }
    this.#ends.answered(request, status)
    const headers = mergedHeaders(reply.getHeaders(), sanitizeResponseHeaders(upstreamHeaders))
    // An HTTP/1 connection cannot be reused until the request's body has been read: the upstream
    // answered before that, so the client's connection closes after this answer.
    if (!request.raw.complete) headers.connection = 'close'
    this.#res.writeHead(status, headers)
    reply.hijack()
    this.#started = true
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#res.write(chunk)) return
    // The client reads slower than the upstream sends: undici stops reading until the response drains.
    controller.pause()
    if (!this.#drainListener) {
      this.#drainListener = true
      this.#res.on('drain', onResponseDrain)
    }
  }

  onResponseEnd(): void {
    this.#res.end()
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.#started) {
      if (!this.#gone) this.#ends.broken(this.#request, error)
      this.#res.destroy()
      return
    }
    // The client went away first: nobody to answer.
    if (this.#gone) return
    this.#ends.failed(this.#request, this.#reply, error)
  }
}

/**
 * The headers the gateway had set on the reply (security headers, a re-signed session cookie, ...)
 * with the upstream's: the upstream's win, as reply-from's copy did, but Set-Cookie adds up, the
 * gateway's cookies last (they were written after the upstream's by @fastify/cookie's onSend hook).
 */
function mergedHeaders(
  own: Record<string, OutgoingHttpHeader | undefined>,
  upstream: IncomingHttpHeaders,
): OutgoingHttpHeaders {
  const ownCookies = own['set-cookie']
  for (const name in upstream) own[name] = upstream[name]
  if (ownCookies !== undefined && upstream['set-cookie'] !== undefined)
    own['set-cookie'] = upstream['set-cookie'].concat(ownCookies as string | string[])
  return own
}
