// SIGTERM as Kubernetes sends it, through the real CLI: for lifecycle.shutdownDelay the listener
// stays open and every request, on a new or a kept-alive connection, gets 503 with Connection:
// close (never ECONNREFUSED); /readyz says shutting down; then the gateway stops listening, exits 0
// and says so in the log. With the old behaviour the listener closed at once.
import { Agent, request } from 'node:http'
import t from 'tap'
import { startDemoApp } from '../../dev/demo/app.js'
import { spawnGateway, until } from '../helpers/gateway-process.js'
import { freePort, stackYaml } from '../helpers/stack.js'

interface Answer {
  status: number
  connection: string | undefined
  body: string
}

function get(url: string, agent?: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { accept: 'text/html', 'accept-language': 'fr' } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        body += c
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

t.test(
  'SIGTERM with shutdownDelay: 503 + Connection: close while the listener stays open, then a clean exit',
  async (t) => {
    const upstream = await startDemoApp(0)
    t.teardown(() => upstream.close())
    const [port, adminPort] = [await freePort(), await freePort()]
    const yaml = `${stackYaml({
      port,
      adminPort,
      issuer: `http://127.0.0.1:${await freePort()}/auth/realms/esante-wallet`,
      upstreamUrl: upstream.url,
    }).replace(/^lifecycle:.*$/m, '')}\nlifecycle: { shutdownDelay: 2s, shutdownGrace: 5s, watchConfig: false }\n`
    const gw = spawnGateway(yaml, 'shutdown-delay')
    t.teardown(() => gw.stop('SIGKILL'))
    const url = `http://127.0.0.1:${port}`
    await until('the gateway to listen', async () => (await get(`${url}/public/x`)).status === 200)

    // A client holding a kept-alive connection, as an ingress controller does.
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 })
    t.teardown(() => keepAlive.destroy())
    const before = await get(`${url}/public/x?format=json`, keepAlive)
    t.equal(before.status, 200)
    t.not(before.connection, 'close', 'kept alive before the shutdown')

    const sentAt = Date.now()
    const exited = gw.stop('SIGTERM')
    await until('the shutdown to begin', async () => gw.output.join('').includes('psc-gateway shutting down'), 5000)

    const onKept = await get(`${url}/public/x?format=json`, keepAlive)
    t.equal(onKept.status, 503, 'the kept-alive connection gets 503')
    t.equal(onKept.connection, 'close', 'with Connection: close, so the client reconnects elsewhere')
    const onNew = await get(`${url}/public/x`)
    t.equal(onNew.status, 503, 'a new connection is still accepted and gets 503, not ECONNREFUSED')
    t.equal(onNew.connection, 'close')
    t.match(onNew.body, /<html lang="fr"/, 'the French page')
    const ready = await fetch(`http://127.0.0.1:${adminPort}/readyz`)
    t.equal(ready.status, 503)
    t.match(await ready.json(), { checks: { lifecycle: { ok: false, reason: 'shutting down' } } })

    t.equal(await exited, 0, 'exit 0')
    t.ok(Date.now() - sentAt >= 2000, `the listener stayed open for the delay (${Date.now() - sentAt} ms)`)
    await t.rejects(get(`${url}/public/x`), { code: 'ECONNREFUSED' }, 'closed after the delay')
    const log = gw.output.join('')
    t.match(log, /"signal":"SIGTERM","shutdownDelayMs":2000,"shutdownGraceMs":5000.*psc-gateway shutting down/)
    t.match(log, /"signal":"SIGTERM","durationMs":\d+.*"msg":"psc-gateway stopped cleanly"/, 'a clean shutdown line')
  },
)
