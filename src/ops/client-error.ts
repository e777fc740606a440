// Requests that Node's HTTP parser refuses before fastify sees them (malformed, headers too large,
// too slow). fastify's default answers English JSON and destroys the socket at once, so a client
// still sending its request reads ECONNRESET instead of the answer. Here: a complete answer (the
// page, in French) that says Connection: close, a half-close, and the rest of the input drained for
// a moment before the socket goes.
import type { Socket } from 'node:net'
import { STATUS_CODES } from 'node:http'
import { PSC_ERR, type PscErrorCode } from '../errors.js'
import { PAGE_HEADERS, renderPage } from '../pages/html.js'
import { problemFor } from '../pages/problems.js'

/** How long a refused client may go on sending before the socket is destroyed. */
const DRAIN_MS = 1000

function codeOf(err: { code?: string }): { code: PscErrorCode; status: number } | undefined {
  switch (err.code) {
    case 'ECONNRESET':
      return undefined
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { code: PSC_ERR.BAD_REQUEST.code, status: 408 }
    case 'HPE_HEADER_OVERFLOW':
      return { code: PSC_ERR.HEADERS_TOO_LARGE.code, status: 431 }
    default:
      return { code: PSC_ERR.BAD_REQUEST.code, status: 400 }
  }
}

export function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  const outcome = codeOf(err)
  if (outcome === undefined || socket.destroyed) return
  if (!socket.writable) return void socket.destroy()
  // The request could not be read: its address is unknown, so the way out is the home page.
  const problem = problemFor(outcome.code, { lang: 'fr', homeHref: '/' })
  const body = renderPage(problem)
  const head = [
    `HTTP/1.1 ${outcome.status} ${STATUS_CODES[outcome.status] ?? ''}`,
    'Connection: close',
    `Content-Length: ${Buffer.byteLength(body)}`,
  ]
  for (const [name, value] of Object.entries(PAGE_HEADERS)) head.push(`${name}: ${value}`)
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`)
  // Reading what the client still sends avoids a reset that would discard our answer.
  socket.resume()
  socket.setTimeout(DRAIN_MS, () => socket.destroy())
}
