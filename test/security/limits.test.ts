// Attack class 6: header and body limits. Oversized heads, many cookies, slow clients, request
// smuggling: each gets a clean 4xx (or a closed connection), the process stays up, and nothing
// reaches the upstream.
import t, { type Test } from 'tap'
import { rawGet, rawRequest } from '../helpers/raw-http.js'
import { startTestGateway, type TestGateway } from './fixture.js'

let gw: TestGateway
let started = 0
t.before(async () => {
  gw = await startTestGateway(`
limits: { maxHeaderSize: 8192, headersTimeout: 1s, requestTimeout: 2s }
upstreams: { app: { url: "UPSTREAM" } }
routes: [ { name: all, upstream: app, access: public } ]
`)
  // 'request' fires as soon as a request head reaches the upstream, body or not
  gw.upstream.server.on('request', () => {
    started++
  })
})
t.teardown(() => gw.close())

async function stillAlive(t: Test) {
  const { response } = await rawGet(gw.url, '/alive')
  t.equal(response?.status, 200, 'a follow-up request works')
}

t.test('an oversized head gets 431, and so do many cookies', async (t) => {
  const before = started
  const big = await rawGet(gw.url, '/x', [`X-Big: ${'a'.repeat(9000)}`])
  t.equal(big.response?.status, 431)
  const cookies = Array.from({ length: 200 }, (_, i) => `Cookie: c${i}=${'v'.repeat(40)}`)
  const many = await rawGet(gw.url, '/x', cookies)
  t.equal(many.response?.status, 431)
  const oneLine = await rawGet(gw.url, '/x', [
    `Cookie: ${Array.from({ length: 400 }, (_, i) => `c${i}=v`).join('; ')}`,
    `X-Pad: ${'p'.repeat(6000)}`,
  ])
  t.equal(oneLine.response?.status, 431)
  t.equal(started, before, 'nothing forwarded')
  await stillAlive(t)
})

const H = 'Host: 127.0.0.1'
const SMUGGLING: Record<string, string> = {
  'Content-Length and Transfer-Encoding': `POST /x HTTP/1.1\r\n${H}\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n${H}\r\n\r\n`,
  'Transfer-Encoding then Content-Length': `POST /x HTTP/1.1\r\n${H}\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n`,
  'two different Content-Length': `POST /x HTTP/1.1\r\n${H}\r\nContent-Length: 5\r\nContent-Length: 30\r\n\r\nhello`,
  'Content-Length list': `POST /x HTTP/1.1\r\n${H}\r\nContent-Length: 5, 30\r\n\r\nhello`,
  'obs-fold': `GET /x HTTP/1.1\r\n${H}\r\nX-A: a\r\n  folded\r\n\r\n`,
  'obs-fold hiding Transfer-Encoding': `POST /x HTTP/1.1\r\n${H}\r\nTransfer-Encoding: identity\r\n chunked\r\nContent-Length: 3\r\n\r\nabc`,
  'bad chunk size': `POST /x HTTP/1.1\r\n${H}\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n`,
  'chunk size overflow': `POST /x HTTP/1.1\r\n${H}\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n`,
  'Transfer-Encoding: xchunked': `POST /x HTTP/1.1\r\n${H}\r\nTransfer-Encoding: xchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
  'Transfer-Encoding: chunked, identity': `POST /x HTTP/1.1\r\n${H}\r\nTransfer-Encoding: chunked, identity\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
  'space before colon': `POST /x HTTP/1.1\r\n${H}\r\nTransfer-Encoding : chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
  'bare LF line ends': `GET /x HTTP/1.1\n${H}\n\n`,
  'NUL in a header value': `GET /x HTTP/1.1\r\n${H}\r\nX-A: a\u0000b\r\n\r\n`,
  'missing Host in HTTP/1.1': `GET /x HTTP/1.1\r\nX-A: a\r\n\r\n`,
}

t.test('request smuggling attempts: 400, connection closed, nothing forwarded', async (t) => {
  for (const [name, bytes] of Object.entries(SMUGGLING)) {
    const before = started
    const res = await rawRequest(gw.url, bytes, { expectResponses: 2, timeoutMs: 2000 })
    t.equal(res.response?.status, 400, `${name}: 400`)
    t.equal(res.responses.length, 1, `${name}: no second (smuggled) response`)
    t.ok(res.closed, `${name}: connection closed`)
    t.equal(started, before, `${name}: nothing forwarded`)
  }
  await stillAlive(t)
})

t.test('a slow head (slowloris) is cut off at headersTimeout', async (t) => {
  const before = started
  const drip = Array.from({ length: 30 }, (_, i) => ({ data: `X-Drip-${i}: x\r\n`, delayMs: 200 }))
  const res = await rawRequest(gw.url, `GET /x HTTP/1.1\r\n${H}\r\n`, {
    parts: drip,
    timeoutMs: 5000,
    expectResponses: 2,
  })
  t.notOk(res.timedOut, 'the gateway ended it, not us')
  t.ok(res.closed, 'connection closed')
  t.equal(res.response?.status ?? 408, 408, 'with a 408 when anything is answered')
  t.equal(started, before, 'nothing forwarded')
  await stillAlive(t)
})

t.test('a connection that never sends anything is closed', async (t) => {
  const res = await rawRequest(gw.url, '', { timeoutMs: 5000, expectResponses: 2 })
  t.notOk(res.timedOut, 'closed by the gateway within its timeouts')
  t.ok(res.closed)
})

t.test('a slow body is cut off at requestTimeout; the upstream never gets a complete request', async (t) => {
  const completeBefore = gw.upstream.received.length
  const head = `POST /x HTTP/1.1\r\n${H}\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n`
  const drip = Array.from({ length: 40 }, () => ({ data: 'x', delayMs: 150 }))
  const res = await rawRequest(gw.url, head, { parts: drip, timeoutMs: 6000, expectResponses: 2 })
  t.notOk(res.timedOut, 'the gateway ended it, not us')
  t.ok(res.closed, 'connection closed')
  t.ok(res.response === undefined || res.response.status === 408, `408 or a plain close (${res.response?.status})`)
  t.equal(gw.upstream.received.length, completeBefore, 'no complete request reached the upstream')
  await stillAlive(t)
})
