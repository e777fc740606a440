// Requests as real clients send them: chunked uploads, Expect: 100-continue (curl on large
// uploads), hop-by-hop headers. Each reaches the upstream with its body intact and without the
// hop-by-hop headers, which belong to the client's connection, not to the upstream's. (An Upgrade
// header is judged by the gate: see test/integration/websocket.test.ts.)
import t, { type Test } from 'tap'
import { rawRequest } from '../helpers/raw-http.js'
import { startTestGateway, type Echo, type TestGateway } from '../security/fixture.js'

let gw: TestGateway
t.before(async () => {
  gw = await startTestGateway(`
upstreams: { app: { url: "UPSTREAM" } }
routes: [ { name: all, upstream: app, access: public } ]
`)
})
t.teardown(() => gw.close())

const H = 'Host: 127.0.0.1'

/** Sends the bytes; `interim` is the number of 1xx responses expected before the final one. */
async function forwarded(t: Test, request: string, interim = 0): Promise<Echo> {
  const before = gw.upstream.received.length
  const { responses, raw } = await rawRequest(gw.url, request, { timeoutMs: 3000, expectResponses: interim + 1 })
  const response = responses[interim]
  for (let i = 0; i < interim; i++) t.equal(responses[i]?.status, 100, 'the gateway answers the expectation')
  t.equal(response?.status, 200, 'answered by the upstream', { received: raw.slice(0, 300) })
  t.equal(gw.upstream.received.length, before + 1, 'forwarded once')
  return gw.upstream.received[gw.upstream.received.length - 1]!
}

t.test('a chunked upload arrives whole', async (t) => {
  const echo = await forwarded(t, `POST /upload HTTP/1.1\r\n${H}\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n7\r\n, monde\r\n0\r\n\r\n`)
  t.equal(echo.body, 'hello, monde')
  t.equal(echo.method, 'POST')
})

t.test('Expect: 100-continue: the gateway answers the expectation, the body is forwarded', async (t) => {
  const body = 'x'.repeat(2048)
  const echo = await forwarded(t, `PUT /upload HTTP/1.1\r\n${H}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n${body}`, 1)
  t.equal(echo.body, body)
  t.notOk('expect' in echo.headers, 'the expectation is not passed on')
})

t.test('hop-by-hop headers of the client connection are not forwarded', async (t) => {
  const echo = await forwarded(t, `GET /page HTTP/1.1\r\n${H}\r\nKeep-Alive: timeout=5, max=100\r\nTE: trailers\r\nTrailer: x-checksum\r\nProxy-Connection: keep-alive\r\nX-Kept: yes\r\nConnection: close\r\n\r\n`)
  for (const name of ['keep-alive', 'te', 'trailer', 'proxy-connection']) t.notOk(name in echo.headers, `${name} is not forwarded`)
  t.equal(echo.headers['x-kept'], 'yes', 'an ordinary header is')
})
