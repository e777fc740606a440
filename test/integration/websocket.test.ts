// WebSocket upgrades through the gateway: judged by the same gate, forwarded with the identity
// headers (client-sent ones stripped), refused without a session.
import { createServer, get as httpGet, type IncomingHttpHeaders } from 'node:http'
import t from 'tap'
import { WebSocket, WebSocketServer } from 'ws'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { startStack } from '../helpers/stack.js'

/** A WebSocket upstream: tells each client the upgrade request it received, then echoes. */
async function wsUpstream() {
  const server = createServer((_req, res) => res.end('plain http'))
  const wss = new WebSocketServer({ server })
  wss.on('connection', (socket, req) => {
    socket.send(JSON.stringify({ url: req.url, headers: req.headers }))
    socket.on('message', (data) => socket.send(`echo:${data.toString()}`))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate()
        wss.close()
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

/** Opens a WebSocket; resolves with the first message, or rejects with the HTTP status of a refusal. */
function open(
  url: string,
  headers: Record<string, string>,
): Promise<{ socket: WebSocket; first: { url: string; headers: IncomingHttpHeaders } }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers })
    socket.once('message', (data) =>
      resolve({ socket, first: JSON.parse(data.toString()) as { url: string; headers: IncomingHttpHeaders } }),
    )
    socket.once('unexpected-response', (_req, res) =>
      reject(Object.assign(new Error(`refused with ${res.statusCode}`), { status: res.statusCode })),
    )
    socket.once('error', reject)
  })
}

/** The HTTP status an upgrade was refused with (undefined when it was accepted). */
async function refusal(attempt: Promise<{ socket: WebSocket }>): Promise<number | undefined> {
  try {
    const { socket } = await attempt
    socket.close()
    return undefined
  } catch (err) {
    return (err as { status?: number }).status
  }
}

t.test('WebSocket upgrades are authorised by the gate and carry the identity', async (t) => {
  const upstream = await wsUpstream()
  t.teardown(() => upstream.close())
  const stack = await startStack({ upstreamUrl: upstream.url, websocket: true })
  t.teardown(() => stack.close())
  const wsUrl = stack.url.replace('http:', 'ws:')

  // A WebSocket cannot follow a redirect to PSC: 401, and no login is started for it.
  t.equal(await refusal(open(`${wsUrl}/live`, {})), 401, 'no session: the upgrade is refused')
  t.notOk(
    stack.audit.some((e) => e.event === 'login' && e.outcome === 'started'),
    'no login start',
  )
  t.equal(await refusal(open(`${wsUrl}/live`, { accept: 'application/json' })), 401, 'an API client gets 401')

  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${stack.url}/`, '899700367915')
  const cookie = `psc_session=${client.cookieValue(stack.url, 'psc_session')}`
  const { socket, first } = await open(`${wsUrl}/live/%66eed?x=1`, {
    cookie,
    'X-PSC-IdNat': 'forged',
    x_psc_rpps: 'forged',
  })
  t.teardown(() => socket.close())
  t.equal(first.headers['x-psc-idnat'], '899700367915', 'the upstream learns who it is')
  t.equal(first.headers['x-psc-profession-code'], '21')
  t.notOk(JSON.stringify(first.headers).includes('forged'), 'client-sent identity headers are stripped')
  t.notOk(String(first.headers.cookie ?? '').includes('psc_session'), 'the session cookie is not forwarded')
  t.equal(first.url, '/live/feed?x=1', 'the normalised path is what is forwarded')
  const echoed = await new Promise<string>((resolve) => {
    socket.once('message', (data) => resolve(data.toString()))
    socket.send('bonjour')
  })
  t.equal(echoed, 'echo:bonjour', 'messages flow both ways')

  t.equal(await refusal(open(`${wsUrl}/medecins/live`, { cookie })), 403, 'a denied route refuses the upgrade')

  // The same paths over plain HTTP go to the HTTP proxy, not to the WebSocket one.
  const plain = await client.get(`${stack.url}/live/feed`)
  t.equal(plain.status, 200)
  t.equal(plain.body, 'plain http', 'a request that is not an upgrade is forwarded as HTTP')
  // (node:http: fetch refuses to send an Upgrade header)
  const withUpgradeHeaderOnly = await new Promise<{ status?: number; body: string }>((resolve, reject) => {
    httpGet(
      `${stack.url}/live/feed`,
      { headers: { cookie, upgrade: 'websocket', connection: 'keep-alive' } },
      (res) => {
        let body = ''
        res
          .setEncoding('utf8')
          .on('data', (c: string) => {
            body += c
          })
          .on('end', () => resolve({ status: res.statusCode, body }))
      },
    ).on('error', reject)
  })
  t.equal(withUpgradeHeaderOnly.status, 200, 'an Upgrade header without Connection: upgrade is plain HTTP')
  t.equal(withUpgradeHeaderOnly.body, 'plain http')
})

t.test('an upstream without websocket: true refuses upgrades', async (t) => {
  const upstream = await wsUpstream()
  t.teardown(() => upstream.close())
  const stack = await startStack({ upstreamUrl: upstream.url })
  t.teardown(() => stack.close())
  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${stack.url}/`, '899700367915')
  const cookie = `psc_session=${client.cookieValue(stack.url, 'psc_session')}`
  t.equal(await refusal(open(`${stack.url.replace('http:', 'ws:')}/live`, { cookie })), 400)
})
