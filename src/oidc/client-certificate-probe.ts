// Does PSC accept the gateway's client certificate? A server that refuses it often sends no TLS
// alert and just closes the connection once it has seen the certificate (Node and many load
// balancers do): the HTTP client then only says "other side closed", which reads as "PSC cannot be
// reached". One TLS connection with the same material, and one HTTP request on it, tell the two apart.
import { connect, type ConnectionOptions } from 'node:tls'
import type { OutboundHttp, OutboundFailure } from './outbound-http.js'
import { certificateRefusal } from './outbound-http.js'
import { PSC_ERR_CLIENT_CERTIFICATE_REFUSED, PSC_ERR_PSC_TLS, PSC_ERR_PSC_UNREACHABLE } from '../errors.js'

export type ProbeVerdict =
  | { verdict: 'accepted' }
  | { verdict: 'refused'; failure: OutboundFailure }
  /** PSC not reached, its own certificate not trusted, a timeout: nothing said about ours */
  | { verdict: 'inconclusive'; detail: string }

const CLOSED = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_CLOSED'])

/** One TLS handshake with the gateway's material, then a HEAD request: an HTTP answer means accepted. */
export function probeClientCertificate(
  http: OutboundHttp,
  url: string | URL,
  timeoutMs: number,
): Promise<ProbeVerdict> {
  const target = new URL(url)
  const host = target.hostname.replace(/^\[|\]$/g, '')
  const port = Number(target.port || 443)
  return new Promise<ProbeVerdict>((resolve) => {
    let handshaken = false
    let settled = false
    const socket = connect({
      ...(http.tlsOptions as ConnectionOptions),
      host,
      port,
      servername: /^[0-9.:]+$/.test(host) ? undefined : host,
      ALPNProtocols: ['http/1.1'],
    })
    const done = (v: ProbeVerdict) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(v)
    }
    const timer = setTimeout(
      () => done({ verdict: 'inconclusive', detail: `no answer within ${timeoutMs} ms` }),
      timeoutMs,
    )
    socket.once('secureConnect', () => {
      handshaken = true
      socket.write(`HEAD ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nConnection: close\r\n\r\n`)
    })
    socket.once('data', (chunk: Buffer) => {
      done(
        chunk.subarray(0, 5).toString('latin1') === 'HTTP/'
          ? { verdict: 'accepted' }
          : { verdict: 'inconclusive', detail: 'PSC answered something other than HTTP' },
      )
    })
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const failure = http.describeFailure(err, target)
      if (failure.code !== PSC_ERR_PSC_TLS && failure.code !== PSC_ERR_PSC_UNREACHABLE)
        return done(
          failure.code === PSC_ERR_CLIENT_CERTIFICATE_REFUSED
            ? { verdict: 'refused', failure }
            : { verdict: 'inconclusive', detail: failure.message },
        )
      // The server's own certificate not trusted, a refused connection: not about ours.
      if (!handshaken && !/before secure TLS connection was established/.test(err.message))
        return done({ verdict: 'inconclusive', detail: failure.message })
      done({ verdict: 'refused', failure: closedAfterCertificate(http, target) })
    })
    socket.once('close', () => {
      if (handshaken) done({ verdict: 'refused', failure: closedAfterCertificate(http, target) })
      else done({ verdict: 'inconclusive', detail: `${target.host} closed the connection` })
    })
  })
}

function closedAfterCertificate(http: OutboundHttp, target: URL): OutboundFailure {
  return certificateRefusal(
    target.host,
    http.certificate,
    'PSC closed the connection as soon as it had seen the certificate, without answering',
  )
}

/**
 * A failure of a call to PSC, told precisely: when the connection was closed during or right after
 * the TLS handshake while a client certificate was presented, a probe says whether the certificate
 * is the cause. Only on a failure path (never per request), and only for a direct connection: through
 * an outbound proxy, the proxy would be probed.
 */
export async function diagnoseFailure(
  http: OutboundHttp,
  err: unknown,
  url: string | URL,
  timeoutMs: number,
): Promise<OutboundFailure> {
  const failure = http.describeFailure(err, url)
  const target = new URL(url)
  if (http.certificate === undefined || target.protocol !== 'https:' || http.proxyOf(target) !== undefined)
    return failure
  if (failure.code !== PSC_ERR_PSC_UNREACHABLE && failure.code !== PSC_ERR_PSC_TLS) return failure
  if (!causeCodes(err).some((c) => CLOSED.has(c))) return failure
  const probe = await probeClientCertificate(http, target, timeoutMs)
  return probe.verdict === 'refused' ? probe.failure : failure
}

function causeCodes(err: unknown): string[] {
  const out: string[] = []
  let e: unknown = err
  for (let i = 0; i < 6 && e instanceof Error; i++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') out.push(code)
    e = (e as { cause?: unknown }).cause
  }
  return out
}
