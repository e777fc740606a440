// The exchange with the upstream (proxy/upstream-exchange.ts) over real sockets: a slow client slows
// the upstream down (backpressure, nothing buffered whole), a client that goes away aborts the
// upstream request, HEAD / 204 / 304 carry no body on a connection that stays usable, a body over
// the limit mid-stream, a timeout after the head, an invalid status, and the headers the gateway set
// before forwarding, an https upstream's certificate checked. Real HTTP servers on 127.0.0.1, a real fastify listener, Node's HTTP client.
import { createHash } from 'node:crypto'
import { Agent, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import * as tls from 'node:tls'
import t, { type Test } from 'tap'
import type { GatewayConfig } from '../../src/config/types.js'
import { UpstreamPools } from '../../src/proxy/upstream-pools.js'
import { clearCookieNow, setCookieNow } from '../../src/session/cookies.js'
import { makeTestPki } from '../helpers/pki.js'
import { doctor, unitConfig } from '../helpers/unit.js'
import { until } from '../helpers/until.js'
import { proxyApp, upstreamServer, withIdentity, type ProxyApp } from './forward-app.js'

// Node 24's (tls.getCACertificates, tls.setDefaultCACertificates), not yet in @types/node here
const { getCACertificates, setDefaultCACertificates } = tls as typeof tls & {
  getCACertificates(type: 'default'): string[]
  setDefaultCACertificates(certs: string[]): void
}

/** The gateway's forwarding route listening on 127.0.0.1, forwarding to `upstream`. */
async function listeningProxy(
  t: Test,
  upstream: string,
  over: { timeout?: string; maxBodySize?: number; beforeForward?: Parameters<typeof proxyApp>[4] } = {},
): Promise<ProxyApp & { url: string }> {
  let config: GatewayConfig = unitConfig({ appUrl: `${upstream}/base`, appTimeout: over.timeout })
  if (over.maxBodySize !== undefined)
    config = { ...config, limits: { ...config.limits, maxBodySize: over.maxBodySize } }
  const proxy = await proxyApp(t, config, withIdentity(doctor()), false, over.beforeForward)
  const url = await proxy.app.listen({ host: '127.0.0.1', port: 0 })
  return { ...proxy, url }
}

function get(url: string, init: { method?: string; agent?: Agent } = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: init.method ?? 'GET', agent: init.agent ?? false }, resolve)
    req.on('error', reject)
    req.end()
  })
}

function readAll(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    res.on('data', (c: Buffer) => chunks.push(c))
    res.on('end', () => resolve(Buffer.concat(chunks)))
    res.on('error', reject)
  })
}

/** Resolves when `emitter` emits `event`, rejects after `ms` naming `what`. */
function eventWithin(emitter: NodeJS.EventEmitter, event: string, ms: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)
    emitter.once(event, () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

t.test('a slow client slows the upstream down: the answer is never held whole in the gateway', async (t) => {
  const total = 128 * 1024 * 1024
  const chunk = Buffer.alloc(64 * 1024, 0x61)
  let written = 0
  let finished = false
  const upstream = await upstreamServer(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) })
    const pump = () => {
      while (written < total) {
        written += chunk.length
        if (!res.write(chunk)) return void res.once('drain', pump)
      }
      finished = true
      res.end()
    }
    pump()
  })
  const { url, statuses } = await listeningProxy(t, upstream)
  const res = await get(`${url}/big`)
  t.equal(res.statusCode, 200)
  // Read nothing: the client's socket fills, then the gateway's, then the upstream must wait.
  res.pause()
  let last = -1
  let still = 0
  await until(
    'the upstream to stop making progress',
    async () => {
      if (finished) return true
      still = written === last ? still + 1 : 0
      last = written
      return still >= 5
    },
    30_000,
    100,
  )
  t.notOk(finished, 'the upstream could not send everything to a client that reads nothing')
  t.ok(written < total / 2, `the upstream was held back after ${(written / 1048576).toFixed(1)} of 128 MiB`)
  res.resume()
  const hash = createHash('sha256')
  let received = 0
  res.on('data', (c: Buffer) => {
    received += c.length
    hash.update(c)
  })
  await eventWithin(res, 'end', 60_000, 'the whole body')
  t.equal(received, total, 'every byte arrives once the client reads')
  t.equal(hash.digest('hex'), createHash('sha256').update(Buffer.alloc(total, 0x61)).digest('hex'))
  await until('the onResponse hooks', async () => statuses.length === 1, 5000, 20)
  t.same(statuses, [200], "fastify's onResponse hooks ran with the upstream's status")
})

t.test('a client that goes away before the answer aborts the upstream request', async (t) => {
  let upstreamRequest: IncomingMessage | undefined
  const upstream = await upstreamServer(t, (req) => {
    upstreamRequest = req // never answered
  })
  const { url, observed } = await listeningProxy(t, upstream)
  const req = httpRequest(`${url}/waiting`, { agent: false })
  req.on('error', () => {})
  req.end()
  await until('the upstream to get the request', async () => upstreamRequest !== undefined, 10_000, 10)
  const upstreamClosed = eventWithin(upstreamRequest!, 'close', 10_000, "the upstream request's end")
  req.destroy()
  await upstreamClosed
  t.ok(upstreamRequest!.destroyed, 'the upstream connection was cut, not left waiting for an answer nobody reads')
  t.same(observed, [], 'not an upstream failure: nothing for the metrics')
})

t.test('a client that goes away mid-body aborts the upstream response', async (t) => {
  let upstreamResponse: ServerResponse | undefined
  const upstream = await upstreamServer(t, (_req, res) => {
    upstreamResponse = res
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.write('first part, the rest never comes')
  })
  const { url } = await listeningProxy(t, upstream)
  const res = await get(`${url}/stream`)
  await eventWithin(res, 'data', 10_000, 'the first part')
  const upstreamClosed = eventWithin(upstreamResponse!, 'close', 10_000, "the upstream response's end")
  res.destroy()
  await upstreamClosed
  t.notOk(upstreamResponse!.writableFinished, 'the upstream response was cut before it finished')
})

t.test('HEAD, 204 and 304: no body, and the connection serves the next request', async (t) => {
  const upstream = await upstreamServer(t, (req, res) => {
    if (req.method === 'HEAD') return void res.writeHead(200, { 'content-length': '1234', 'x-head': 'yes' }).end()
    if (req.url === '/base/none') return void res.writeHead(204, { 'x-none': 'yes' }).end()
    if (req.url === '/base/same') return void res.writeHead(304, { etag: '"v1"' }).end()
    res.writeHead(200, { 'content-type': 'text/plain' }).end('after')
  })
  const { url, statuses } = await listeningProxy(t, upstream)
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => agent.destroy())
  const ports = new Set<number>()
  const head = await get(`${url}/doc`, { method: 'HEAD', agent })
  ports.add(head.socket.localPort!)
  t.equal(head.statusCode, 200)
  t.equal(head.headers['content-length'], '1234', "the upstream's length of the body a GET would get")
  t.equal(head.headers['x-head'], 'yes')
  t.equal((await readAll(head)).length, 0)
  const none = await get(`${url}/none`, { agent })
  ports.add(none.socket.localPort!)
  t.equal(none.statusCode, 204)
  t.equal((await readAll(none)).length, 0)
  const same = await get(`${url}/same`, { agent })
  ports.add(same.socket.localPort!)
  t.equal(same.statusCode, 304)
  t.equal(same.headers.etag, '"v1"')
  t.equal((await readAll(same)).length, 0)
  const after = await get(`${url}/after`, { agent })
  ports.add(after.socket.localPort!)
  t.equal((await readAll(after)).toString(), 'after')
  t.equal(ports.size, 1, 'one connection for the four requests')
  t.same(statuses, [200, 204, 304, 200])
})

t.test(
  'a chunked body over limits.maxBodySize: 413, the upstream request aborted, the connection closed',
  async (t) => {
    let upstreamRequest: IncomingMessage | undefined
    let upstreamBodyEnded = false
    const upstream = await upstreamServer(t, (req) => {
      upstreamRequest = req
      req.on('data', () => {})
      req.on('end', () => {
        upstreamBodyEnded = true
      })
    })
    const { url } = await listeningProxy(t, upstream, { maxBodySize: 1000 })
    const answer = new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(
        `${url}/upload`,
        { method: 'POST', agent: false, headers: { 'content-type': 'text/plain', accept: 'application/json' } },
        resolve,
      )
      req.on('error', reject)
      // chunked: the length is only known as it streams
      req.write('x'.repeat(600))
      until('the upstream to get the start of the body', async () => upstreamRequest !== undefined, 10_000, 10).then(
        () => req.end('y'.repeat(600)),
        reject,
      )
    })
    const res = await answer
    t.equal(res.statusCode, 413)
    t.equal(res.headers.connection, 'close')
    await until('the upstream request to end', async () => upstreamRequest?.destroyed === true, 10_000, 20)
    t.notOk(upstreamBodyEnded, 'the upstream never got a complete body')
  },
)

t.test('an upstream that stops mid-body past its timeout: the response is cut, not completed', async (t) => {
  const upstream = await upstreamServer(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' })
    res.write('only part of the hundred bytes')
  })
  const { url, statuses } = await listeningProxy(t, upstream, { timeout: '300ms' })
  const res = await get(`${url}/stalls`)
  t.equal(res.statusCode, 200, 'the head went out before the upstream stalled')
  const cut = await new Promise<boolean>((resolve) => {
    res.on('aborted', () => resolve(true))
    res.on('error', () => resolve(true))
    res.on('end', () => resolve(false))
    res.resume()
  })
  t.ok(cut, 'the client sees a cut response, never a complete one')
  t.same(statuses, [], 'no finished response for the onResponse hooks (the aborted response is audited as such)')
})

t.test('an invalid upstream status: 502, told as an upstream error', async (t) => {
  const upstream = await upstreamServer(t, (_req, res) => void res.writeHead(999).end('odd'))
  const { url, observed } = await listeningProxy(t, upstream)
  const res = await httpGetJson(`${url}/odd`)
  t.equal(res.status, 502)
  t.equal(res.body.error, 'PSC_ERR_UPSTREAM_UNAVAILABLE')
  t.same(observed, [['error', 'app', 'PSC_UPSTREAM_BAD_STATUS']])
})

t.test("headers the gateway set before forwarding are sent with the upstream's; its cookies last", async (t) => {
  const upstream = await upstreamServer(t, (_req, res) => {
    res.setHeader('set-cookie', ['app_a=1; Path=/', 'app_b=2; Path=/'])
    res.setHeader('x-upstream', 'u')
    res.setHeader('strict-transport-security', 'max-age=1')
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok')
  })
  const { url } = await listeningProxy(t, upstream, {
    beforeForward: (reply) => {
      reply.header('x-gateway-own', 'kept')
      reply.header('strict-transport-security', 'max-age=63072000')
      clearCookieNow(reply, 'psc_session')
      setCookieNow(reply, 'psc_other', 'v', { path: '/', httpOnly: true })
    },
  })
  const res = await get(`${url}/page`)
  await readAll(res)
  t.equal(res.headers['x-gateway-own'], 'kept')
  t.equal(res.headers['x-upstream'], 'u')
  t.equal(res.headers['strict-transport-security'], 'max-age=1', "the upstream's value wins, as before")
  t.same(res.headers['set-cookie'], [
    'app_a=1; Path=/',
    'app_b=2; Path=/',
    'psc_session=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; SameSite=Lax',
    'psc_other=v; Path=/; HttpOnly; SameSite=Lax',
  ])
})

t.test('pools: one per origin, kept across a reload that keeps the origin, closed when it goes', async (t) => {
  const a = { name: 'a', url: 'http://127.0.0.1:1/one', websocket: false, forwardAccessToken: false }
  const b = { name: 'b', url: 'http://127.0.0.1:2', websocket: false, forwardAccessToken: false }
  const pools = new UpstreamPools({ a, b })
  const poolA = pools.linkOf(a).pool
  const poolB = pools.linkOf(b).pool
  t.not(poolA, poolB)
  t.equal(pools.linkOf(a).host, '127.0.0.1:1')
  const a2 = { ...a, url: 'http://127.0.0.1:1/two', timeoutMs: 5000 }
  pools.keepOnly({ a: a2 })
  t.equal(pools.linkOf(a2).pool, poolA, 'same origin: same pool, its connections kept')
  t.equal(pools.linkOf(a2).timeout, 5000)
  t.ok(poolB.closed, 'an origin no longer configured: its pool closed')
  t.notOk(poolA.closed)
  await pools.close()
  t.ok(poolA.closed)
})

async function httpGetJson(url: string): Promise<{ status: number; body: { error?: string } }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false, headers: { accept: 'application/json' } }, (res) => {
      readAll(res).then((b) => resolve({ status: res.statusCode ?? 0, body: JSON.parse(b.toString()) }), reject)
    })
    req.on('error', reject)
    req.end()
  })
}

t.test("an https upstream: its certificate is checked against the process's CA roots", async (t) => {
  const pki = makeTestPki()
  let reached = 0
  const server = createHttpsServer({ cert: pki.serverCert, key: pki.serverKey }, (_req, res) => {
    reached++
    res.end('from the https upstream')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  const upstream = `https://127.0.0.1:${(server.address() as AddressInfo).port}`

  // a certificate from a CA the process does not trust: refused before any request goes out (fail closed)
  const untrusting = await listeningProxy(t, upstream)
  const refused = await httpGetJson(`${untrusting.url}/x`)
  t.equal(refused.status, 502)
  t.equal(refused.body.error, 'PSC_ERR_UPSTREAM_UNAVAILABLE')
  t.equal(reached, 0, 'the upstream never got the request (nor the identity headers)')
  t.match(untrusting.observed, [['error', 'app', /CERT|VERIFY|SIGNATURE/]], 'the certificate error is told')

  // the hospital's CA added to the roots (NODE_EXTRA_CA_CERTS at start does the same): forwarded
  setDefaultCACertificates([...getCACertificates('default'), pki.caPem])
  const trusting = await listeningProxy(t, upstream)
  const res = await get(`${trusting.url}/x`)
  t.equal(res.statusCode, 200)
  t.equal((await readAll(res)).toString(), 'from the https upstream')
  t.equal(reached, 1)
})
