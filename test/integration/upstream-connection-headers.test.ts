// The client's connection semantics, never the upstream's: an upstream that answers
// "Connection: keep-alive, X-Upstream-Hop" and "Keep-Alive: timeout=5" (as Apache and IIS do) is
// proxied to raw-socket clients speaking HTTP/1.0 or sending Connection: close; they get a closing
// answer without the upstream's Keep-Alive, and the connection is closed. Real gateway, real upstream.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { rawRequest } from '../helpers/raw-http.js'
import { startStack, type Stack } from '../helpers/stack.js'

let upstream: Server
let stack: Stack
t.before(async () => {
  upstream = createServer((_req, res) => {
    res.setHeader('Connection', 'keep-alive, X-Upstream-Hop')
    res.setHeader('Keep-Alive', 'timeout=5, max=1000')
    res.setHeader('X-Upstream-Hop', 'for the gateway only')
    res.setHeader('Proxy-Connection', 'keep-alive')
    res.setHeader('Content-Type', 'text/plain')
    res.end('bonjour')
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  stack = await startStack({ upstreamUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` })
})
t.teardown(async () => {
  await stack?.close()
  await new Promise((resolve) => upstream?.close(resolve))
})

/** Sends one request and waits for the server to close (or 2 s): expects no second response. */
const send = (lines: string[]) =>
  rawRequest(stack.url, [...lines, '', ''].join('\r\n'), { expectResponses: 2, timeoutMs: 2000 })

t.test("HTTP/1.0 without keep-alive: a closing answer, none of the upstream's connection headers", async (t) => {
  const { response, closed, timedOut } = await send(['GET /public/page HTTP/1.0', `Host: ${new URL(stack.url).host}`])
  t.equal(response?.status, 200)
  t.equal(response?.body, 'bonjour')
  t.not(response?.headers.connection?.toLowerCase(), 'keep-alive', "not the upstream's keep-alive")
  t.equal(response?.headers['keep-alive'], undefined, 'no Keep-Alive: timeout=5')
  t.equal(response?.headers['x-upstream-hop'], undefined, "a header the upstream's Connection named is hop-by-hop")
  t.equal(response?.headers['proxy-connection'], undefined)
  t.ok(closed && !timedOut, 'the gateway closes the connection as HTTP/1.0 requires')
})

t.test('HTTP/1.1 with Connection: close: Connection: close, and the connection closed', async (t) => {
  const { response, closed, timedOut } = await send([
    'GET /public/page HTTP/1.1',
    `Host: ${new URL(stack.url).host}`,
    'Connection: close',
  ])
  t.equal(response?.status, 200)
  t.equal(response?.headers.connection?.toLowerCase(), 'close')
  t.equal(response?.headers['keep-alive'], undefined)
  t.equal(response?.headers['x-upstream-hop'], undefined)
  t.ok(closed && !timedOut, "closed, not kept alive for 5 s on the upstream's word")
})

t.test("HTTP/1.1 keep-alive: the gateway's own keep-alive, not the upstream's", async (t) => {
  const { response } = await rawRequest(
    stack.url,
    `GET /public/page HTTP/1.1\r\nHost: ${new URL(stack.url).host}\r\n\r\n`,
  )
  t.equal(response?.status, 200)
  t.notMatch(
    response?.headers['keep-alive'] ?? '',
    /timeout=5\b|max=1000/,
    "the upstream's Keep-Alive values do not travel",
  )
  t.equal(response?.headers['x-upstream-hop'], undefined)
})
