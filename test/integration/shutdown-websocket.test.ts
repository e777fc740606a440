// SIGTERM with a WebSocket open: the process stops accepting, keeps the socket for the grace period,
// then closes it and exits 0 (what Kubernetes expects of a terminating pod).
import { createServer } from 'node:http'
import t from 'tap'
import { WebSocket, WebSocketServer } from 'ws'
import { spawnGateway } from '../helpers/gateway-process.js'
import { freePort, stackYaml } from '../helpers/stack.js'

t.test('SIGTERM: open WebSockets last the grace period, then the process exits 0', async (t) => {
  const server = createServer()
  const wss = new WebSocketServer({ server })
  wss.on('connection', (s) => s.on('message', (m) => s.send(`echo:${m.toString()}`)))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(
    () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate()
        wss.close()
        server.close(() => r())
      }),
  )
  const port = await freePort()
  const adminPort = await freePort()
  const yaml = `${stackYaml({
    port,
    adminPort,
    issuer: `http://127.0.0.1:${await freePort()}/auth/realms/esante-wallet`,
    upstreamUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    websocket: true,
  })}lifecycle: { shutdownGrace: 1500ms, watchConfig: false }\n`
  const gw = spawnGateway(yaml)
  t.teardown(() => gw.stop('SIGKILL'))
  const url = `ws://127.0.0.1:${port}/public/live`
  let socket: WebSocket | undefined
  for (let i = 0; i < 300 && !socket; i++) {
    socket = await new Promise<WebSocket | undefined>((resolve) => {
      const s = new WebSocket(url)
      s.once('open', () => resolve(s))
      s.once('error', () => resolve(undefined))
    })
    if (!socket) await new Promise((r) => setTimeout(r, 100))
  }
  t.ok(socket, 'WebSocket open through the gateway (public route)')
  const echo = (text: string) =>
    new Promise<string>((resolve) => {
      socket!.once('message', (m) => resolve(m.toString()))
      socket!.send(text)
    })
  t.equal(await echo('avant'), 'echo:avant')

  const started = Date.now()
  const closed = new Promise<number>((r) => socket!.once('close', () => r(Date.now() - started)))
  const exited = gw.stop('SIGTERM')
  await new Promise((r) => setTimeout(r, 300)) // time passing: well into the grace period (the shutdown log line comes before the listener closes)
  t.equal(await echo('pendant'), 'echo:pendant', 'the open WebSocket still works during the grace period')
  const refused = await new Promise<boolean>((resolve) => {
    const s = new WebSocket(url)
    s.once('open', () => {
      s.close()
      resolve(false)
    })
    s.once('error', () => resolve(true))
    s.once('unexpected-response', () => resolve(true))
  })
  t.ok(refused, 'a new upgrade is refused (503) while draining')
  const readiness = await fetch(`http://127.0.0.1:${adminPort}/readyz`)
  t.equal(readiness.status, 503, 'not ready while draining, so the load balancer stops sending traffic')
  t.match(await readiness.json(), { checks: { lifecycle: { ok: false, reason: 'shutting down' } } })
  const closedAfter = await closed
  t.ok(closedAfter >= 1000, `closed at the end of the grace period (${closedAfter} ms)`)
  t.equal(await exited, 0, 'exit 0')
})
