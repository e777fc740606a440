// A gateway with a route table of the test's choosing, for attacks that need other routes or other
// settings than startStack's: public routes only (no PSC login needed; PSC points at a closed port),
// upstreams that are counting echo servers, so a test can see exactly what was forwarded, and how
// often.
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import type { AuditEvent } from '../../src/audit/events.js'
import { loadConfigText } from '../../src/config/load.js'
import { buildGateway, type Gateway } from '../../src/gateway.js'
import { reservePort } from '../helpers/ports.js'
import { freePort, SESSION_SECRET } from '../helpers/stack.js'

export interface Echo {
  method: string
  url: string
  headers: Record<string, string | string[]>
  rawHeaders: string[]
  body: string
}

export interface CountingUpstream {
  url: string
  server: Server
  /** every request received, in order */
  received: Echo[]
  close(): Promise<void>
}

/** An upstream that answers every request with what it received, as JSON, and keeps a copy. */
export async function startCountingUpstream(): Promise<CountingUpstream> {
  const received: Echo[] = []
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const echo: Echo = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers as Echo['headers'],
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks).toString('utf8'),
      }
      received.push(echo)
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
      res.end(JSON.stringify(echo))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    server,
    received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export interface TestGateway {
  url: string
  gateway: Gateway
  upstream: CountingUpstream
  audit: AuditEvent[]
  logs: string[]
  close(): Promise<void>
}

/**
 * `body` is YAML with `upstreams:` and `routes:` (and any other top-level key); "UPSTREAM" in it
 * is replaced by the counting upstream's URL. `publicUrl` defaults to the gateway's own address.
 */
export async function startTestGateway(
  body: string,
  opts: { publicUrl?: string; env?: Record<string, string> } = {},
): Promise<TestGateway> {
  const upstream = await startCountingUpstream()
  const reserved = await reservePort()
  const port = reserved.port
  const closedPort = await freePort()
  const yaml = `
listen: { host: 127.0.0.1, port: ${port} }
publicUrl: ${opts.publicUrl ?? `http://127.0.0.1:${port}`}
admin: { enabled: false }
psc:
  environment: custom
  issuer: http://127.0.0.1:${closedPort}
  clientId: security-tests
  clientSecret: \${TEST_CLIENT_SECRET}
  allowInsecureHttp: true
session:
  secrets: ["${SESSION_SECRET}"]
${body.replaceAll('UPSTREAM', upstream.url)}
`
  const { config } = loadConfigText(yaml, 'security-test.yaml', {
    TEST_CLIENT_SECRET: 'security-test-client-secret-1234',
    ...opts.env,
  })
  const audit: AuditEvent[] = []
  const logs: string[] = []
  const logStream = new Writable({
    write(chunk: Buffer, _e, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean))
      done()
    },
  })
  const gateway = await buildGateway(config, {
    audit: { write: (e) => void audit.push(JSON.parse(JSON.stringify(e)) as AuditEvent) },
    logStream: logStream as never,
  })
  await gateway.listen(reserved)
  return {
    url: `http://127.0.0.1:${port}`,
    gateway,
    upstream,
    audit,
    logs,
    async close() {
      await gateway.close()
      await upstream.close()
    },
  }
}
