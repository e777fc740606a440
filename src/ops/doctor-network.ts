// The doctor's checks of the way to PSC from this server: the names resolve (or the proxy resolves
// them), and the outbound proxy, when there is one, opens a tunnel to PSC (a CONNECT sent by hand).
import { lookup } from 'node:dns/promises'
import { connect as netConnect, isIP } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import type { GatewayConfig } from '../config/types.js'
import type { DoctorCheck } from './doctor-check.js'
import type { DoctorText, ProxySource } from './doctor-text.js'

/** The environment the proxy variables are read from. */
export interface Env {
  [name: string]: string | undefined
}

/** Where the proxy for `target` was named: psc.outboundProxy, or the environment variable that proxyFor read. */
export function proxySource(target: URL, psc: GatewayConfig['psc'], env: Env): ProxySource {
  if (psc.outbound.proxy.kind === 'configured') return { kind: 'config' }
  const names = target.protocol === 'https:' ? ['https_proxy', 'HTTPS_PROXY'] : ['http_proxy', 'HTTP_PROXY']
  return { kind: 'env', name: names.find((n) => env[n] !== undefined && env[n] !== '') ?? names[1]! }
}

export async function dnsCheck(hosts: string[], viaProxy: boolean, m: DoctorText): Promise<DoctorCheck> {
  const unique = [...new Set(hosts)]
  const failed: string[] = []
  const found: string[] = []
  for (const host of unique) {
    if (isIP(host)) {
      found.push(host)
      continue
    }
    try {
      const { address } = await lookup(host)
      found.push(`${host} → ${address}`)
    } catch (err) {
      failed.push(`${host} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
    }
  }
  if (failed.length === 0) return { name: 'dns', verdict: 'ok', detail: found.join(', ') }
  if (viaProxy) return { name: 'dns', verdict: 'ok', detail: m.dnsViaProxy(failed.join(', ')) }
  return { name: 'dns', verdict: 'fail', detail: m.dnsFail(failed.join(', ')), todo: m.dnsTodo }
}

/** A CONNECT to PSC through the proxy, by hand: the answer's status line is the verdict. */
export async function proxyCheck(
  proxy: URL,
  target: URL,
  timeoutMs: number,
  source: ProxySource,
  m: DoctorText,
): Promise<DoctorCheck> {
  const shown = `${proxy.protocol}//${proxy.host}`
  const port = Number(proxy.port || (proxy.protocol === 'https:' ? 443 : 80))
  const hostPort = `${target.hostname}:${target.port || (target.protocol === 'https:' ? 443 : 80)}`
  const auth =
    proxy.username !== ''
      ? `Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}\r\n`
      : ''
  return new Promise<DoctorCheck>((resolve) => {
    const socket =
      proxy.protocol === 'https:'
        ? tlsConnect({ host: proxy.hostname, port, servername: proxy.hostname })
        : netConnect(port, proxy.hostname)
    const done = (c: DoctorCheck) => {
      socket.destroy()
      resolve(c)
    }
    socket.setTimeout(timeoutMs, () =>
      done({ name: 'proxy', verdict: 'fail', detail: m.proxyTimeout(shown, timeoutMs), todo: m.proxyTimeoutTodo }),
    )
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done({
        name: 'proxy',
        verdict: 'fail',
        detail: m.proxyUnreachable(shown, err.code ?? err.message),
        todo: m.proxyUnreachableTodo(source),
      }),
    )
    socket.once(proxy.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      socket.write(`CONNECT ${hostPort} HTTP/1.1\r\nHost: ${hostPort}\r\n${auth}\r\n`)
    })
    let head = ''
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1')
      const end = head.indexOf('\r\n')
      if (end === -1) return
      const status = Number(/^HTTP\/1\.[01] ([0-9]{3})/.exec(head.slice(0, end))?.[1] ?? 0)
      if (status === 200) done({ name: 'proxy', verdict: 'ok', detail: m.proxyOk(shown, hostPort) })
      else if (status === 407)
        done({ name: 'proxy', verdict: 'fail', detail: m.proxyAuth(shown), todo: m.proxyAuthTodo(source) })
      else if (status === 403 || status === 405)
        done({
          name: 'proxy',
          verdict: 'fail',
          detail: m.proxyRefused(shown, hostPort, status),
          todo: m.proxyRefusedTodo(hostPort),
        })
      else
        done({
          name: 'proxy',
          verdict: 'fail',
          detail: m.proxyOther(shown, hostPort, String(status || head.slice(0, end))),
          todo: m.proxyOtherTodo,
        })
    })
  })
}
