// A raw-socket HTTP/1.1 client for security tests: it sends exactly the bytes it is given (no
// normalisation of the path, no header validation, no framing of its own) and parses whatever comes
// back. fetch and node:http clean requests up before sending them, which is precisely what an
// attacker does not do.
import { connect, type Socket } from 'node:net'

export interface RawResponse {
  status: number
  statusText: string
  /** header names lower-cased; repeated headers joined with ", " (set-cookie kept as a list) */
  headers: Record<string, string>
  setCookie: string[]
  body: string
}

export interface RawExchange {
  /** the responses parsed from the connection, in order (pipelined requests give several) */
  responses: RawResponse[]
  /** the first response, or undefined when the server answered nothing parseable */
  response: RawResponse | undefined
  /** the server closed the connection (FIN or reset) before our timeout */
  closed: boolean
  /** we gave up waiting: neither the expected responses nor a close came in time */
  timedOut: boolean
  /** everything received, for messages */
  raw: string
}

export interface RawOptions {
  /** give up after this long (default 5000 ms) */
  timeoutMs?: number
  /** resolve once this many complete responses arrived (default 1) */
  expectResponses?: number
  /** send the request in parts, waiting `delayMs` before each one (slow clients) */
  parts?: Array<{ data: string | Buffer; delayMs: number }>
}

/** "http://127.0.0.1:1234" → host and port */
function target(url: string): { host: string; port: number } {
  const u = new URL(url)
  return { host: u.hostname, port: Number(u.port || 80) }
}

/**
 * Parses as many complete responses as `buf` holds. A response without Content-Length nor chunked
 * framing runs to the end of the connection, so it is complete only when `ended`.
 */
export function parseResponses(buf: Buffer, ended: boolean): RawResponse[] {
  const out: RawResponse[] = []
  let at = 0
  while (at < buf.length) {
    const headEnd = buf.indexOf('\r\n\r\n', at)
    if (headEnd === -1) break
    const head = buf.subarray(at, headEnd).toString('latin1').split('\r\n')
    const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(head[0] ?? '')
    if (!m) break
    const headers: Record<string, string> = {}
    const setCookie: string[] = []
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':')
      if (colon <= 0) continue
      const name = line.slice(0, colon).trim().toLowerCase()
      const value = line.slice(colon + 1).trim()
      if (name === 'set-cookie') setCookie.push(value)
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
    }
    let bodyStart = headEnd + 4
    let body: Buffer
    const status = Number(m[1])
    const noBody = status === 204 || status === 304 || (status >= 100 && status < 200)
    if (noBody) {
      body = Buffer.alloc(0)
    } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const chunks: Buffer[] = []
      let p = bodyStart
      let done = false
      for (;;) {
        const lineEnd = buf.indexOf('\r\n', p)
        if (lineEnd === -1) break
        const size = parseInt(buf.subarray(p, lineEnd).toString('latin1'), 16)
        if (Number.isNaN(size)) break
        if (size === 0) {
          const trailerEnd = buf.indexOf('\r\n\r\n', lineEnd)
          if (trailerEnd === -1) break
          p = trailerEnd + 4
          done = true
          break
        }
        if (lineEnd + 2 + size + 2 > buf.length) break
        chunks.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size))
        p = lineEnd + 2 + size + 2
      }
      if (!done) break
      body = Buffer.concat(chunks)
      bodyStart = p
    } else if (headers['content-length'] !== undefined) {
      const len = Number(headers['content-length'])
      if (bodyStart + len > buf.length) break
      body = buf.subarray(bodyStart, bodyStart + len)
      bodyStart += len
    } else {
      if (!ended) break
      body = buf.subarray(bodyStart)
      bodyStart = buf.length
    }
    out.push({ status, statusText: m[2] ?? '', headers, setCookie, body: body.toString('utf8') })
    at = bodyStart
  }
  return out
}

/** Opens a connection to `url`'s host and port, sends `bytes` verbatim, and reads the answer. */
export function rawRequest(url: string, bytes: string | Buffer, opts: RawOptions = {}): Promise<RawExchange> {
  const { host, port } = target(url)
  const timeoutMs = opts.timeoutMs ?? 5000
  const expect = opts.expectResponses ?? 1
  return new Promise((resolve) => {
    const received: Buffer[] = []
    let closed = false
    let settled = false
    const timers: NodeJS.Timeout[] = []
    const socket: Socket = connect({ host, port })
    const finish = (timedOut: boolean) => {
      if (settled) return
      settled = true
      for (const t of timers) clearTimeout(t)
      const buf = Buffer.concat(received)
      const responses = parseResponses(buf, closed)
      socket.destroy()
      resolve({ responses, response: responses[0], closed, timedOut, raw: buf.toString('latin1') })
    }
    socket.on('data', (d: Buffer) => {
      received.push(d)
      if (parseResponses(Buffer.concat(received), false).length >= expect) finish(false)
    })
    socket.on('error', () => {
      closed = true
    })
    socket.on('close', () => {
      closed = true
      finish(false)
    })
    socket.on('end', () => {
      closed = true
    })
    timers.push(setTimeout(() => finish(true), timeoutMs))
    socket.once('connect', () => {
      if (bytes.length > 0) socket.write(bytes)
      let delay = 0
      for (const part of opts.parts ?? []) {
        delay += part.delayMs
        timers.push(
          setTimeout(() => {
            if (!socket.destroyed) socket.write(part.data)
          }, delay),
        )
      }
    })
  })
}

/** A GET with the given raw request-target and extra raw header lines ("Name: value"). */
export function rawGet(
  url: string,
  requestTarget: string,
  headerLines: string[] = [],
  opts: RawOptions = {},
): Promise<RawExchange> {
  const { host, port } = target(url)
  const hasHost = headerLines.some((l) => /^host:/i.test(l))
  const lines = [
    `GET ${requestTarget} HTTP/1.1`,
    ...(hasHost ? [] : [`Host: ${host}:${port}`]),
    ...headerLines,
    'Connection: close',
    '',
    '',
  ]
  return rawRequest(url, lines.join('\r\n'), opts)
}
