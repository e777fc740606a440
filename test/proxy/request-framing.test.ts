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
  const echo = await forwarded(
    t,
    `POST /upload HTTP/1.1\r\n${H}\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n7\r\n, monde\r\n0\r\n\r\n`,
  )
  t.equal(echo.body, 'hello, monde')
  t.equal(echo.method, 'POST')
})

t.test('Expect: 100-continue: the gateway answers the expectation, the body is forwarded', async (t) => {
  const body = 'x'.repeat(2048)
  const echo = await forwarded(
    t,
    `PUT /upload HTTP/1.1\r\n${H}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n${body}`,
    1,
  )
  t.equal(echo.body, body)
  t.notOk('expect' in echo.headers, 'the expectation is not passed on')
})

t.test("bodies pass through byte for byte, whatever their type and beyond fastify's 1 MiB default", async (t) => {
  const json = '{ "a" :  1,\n "b": [ ] }'
  const asJson = await forwarded(
    t,
    `POST /api HTTP/1.1\r\n${H}\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\nConnection: close\r\n\r\n${json}`,
  )
  t.equal(asJson.body, json, 'JSON is not parsed and re-serialised')
  const big = 'é'.repeat(1_100_000)
  const bytes = Buffer.byteLength(big)
  const asText = await forwarded(
    t,
    `POST /notes HTTP/1.1\r\n${H}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${bytes}\r\nConnection: close\r\n\r\n${big}`,
  )
  t.equal(asText.body.length, big.length, `a ${bytes}-byte text/plain body arrives whole`)
})

t.test('hop-by-hop headers of the client connection are not forwarded', async (t) => {
  const echo = await forwarded(
    t,
    `GET /page HTTP/1.1\r\n${H}\r\nKeep-Alive: timeout=5, max=100\r\nTE: trailers\r\nTrailer: x-checksum\r\nProxy-Connection: keep-alive\r\nX-Kept: yes\r\nConnection: close\r\n\r\n`,
  )
  for (const name of ['keep-alive', 'te', 'trailer', 'proxy-connection'])
    t.notOk(name in echo.headers, `${name} is not forwarded`)
  t.equal(echo.headers['x-kept'], 'yes', 'an ordinary header is')
})

t.test('limits.maxBodySize: a larger body gets 413 and never reaches the upstream whole', async (t) => {
  const small = await startTestGateway(`
limits: { maxBodySize: 1000 }
upstreams: { app: { url: "UPSTREAM" } }
routes: [ { name: all, upstream: app, access: public } ]
`)
  t.teardown(() => small.close())
  const send = (bytes: string) => rawRequest(small.url, bytes, { timeoutMs: 3000 })

  const declared = await send(
    `POST /upload HTTP/1.1\r\n${H}\r\nContent-Type: text/plain\r\nContent-Length: 2000\r\n\r\n${'a'.repeat(2000)}`,
  )
  t.equal(declared.response?.status, 413, 'a Content-Length over the limit is refused')
  t.equal(declared.response?.headers.connection, 'close', 'and the connection is closed (the body is not read)')
  t.match(declared.response?.body, /Envoi trop volumineux/, 'a page in French')
  t.match(declared.response?.body, /taille maximale acceptée \(1000 octets\)/, 'that says which limit')

  const chunk = `258\r\n${'b'.repeat(600)}\r\n`
  const chunked = await send(
    `POST /upload HTTP/1.1\r\n${H}\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}${chunk}${chunk}0\r\n\r\n`,
  )
  t.equal(chunked.response?.status, 413, 'a chunked body is stopped once over the limit')

  t.equal(small.upstream.received.length, 0, 'the upstream received no complete request')
  const atLimit = await send(
    `POST /upload HTTP/1.1\r\n${H}\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n${'c'.repeat(1000)}`,
  )
  t.equal(atLimit.response?.status, 200, 'a body at the limit is forwarded')
  const chunkedUnder = await send(
    `POST /upload HTTP/1.1\r\n${H}\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunk}0\r\n\r\n`,
  )
  t.equal(chunkedUnder.response?.status, 200, 'a chunked body under the limit is forwarded')
  t.same(
    small.upstream.received.map((e) => e.body.length),
    [1000, 600],
    'whole',
  )
  const audited = small.audit.filter((e) => e.event === 'access' && e.status === 413)
  t.equal(audited.length, 2, 'both refusals are in the audit trail with their status')
})

t.test('limits.maxBodySize: 0 is no limit', async (t) => {
  const unlimited = await startTestGateway(`
limits: { maxBodySize: 0 }
upstreams: { app: { url: "UPSTREAM" } }
routes: [ { name: all, upstream: app, access: public } ]
`)
  t.teardown(() => unlimited.close())
  const chunk = `258\r\n${'d'.repeat(600)}\r\n`
  const res = await rawRequest(
    unlimited.url,
    `POST /upload HTTP/1.1\r\n${H}\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunk}${chunk}0\r\n\r\n`,
    { timeoutMs: 3000 },
  )
  t.equal(res.response?.status, 200)
  t.same(
    unlimited.upstream.received.map((e) => e.body.length),
    [1200],
  )
})

t.test("a body too large for one of the gateway's own endpoints names that limit, not maxBodySize", async (t) => {
  const body = `{"pad":"${'e'.repeat(1_100_000)}"}`
  const res = await rawRequest(
    gw.url,
    `POST /_psc/logout HTTP/1.1\r\n${H}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    { timeoutMs: 3000 },
  )
  t.equal(res.response?.status, 413)
  t.match(res.response?.body, /acceptée \(1 Mio\)/, "fastify's bodyLimit")
  t.notMatch(res.response?.body, /maxBodySize/)
})
