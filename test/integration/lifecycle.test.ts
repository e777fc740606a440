// The gateway process's life, through the real CLI: configuration reload on file change and on
// SIGHUP (a bad file is refused and the old configuration kept), and SIGTERM draining requests in
// flight before exiting 0.
import { writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import t from 'tap'
import { startDelayedUpstream } from '../helpers/delayed-upstream.js'
import { spawnGateway, until } from '../helpers/gateway-process.js'
import { freePort, stackYaml } from '../helpers/stack.js'

/** GET over node:http (a fresh connection), resolving with status and body. */
function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

const withRoute = (yaml: string, route: string) =>
  yaml.replace('  - name: application', `${route}\n  - name: application`)

t.test('reload on file change and SIGHUP; a bad file is refused; SIGTERM drains', async (t) => {
  const upstream = await startDelayedUpstream()
  t.teardown(() => upstream.close())
  const port = await freePort()
  const adminPort = await freePort()
  // PSC is not needed here (public routes only): an issuer nobody answers at.
  const base = stackYaml({
    port,
    adminPort,
    issuer: `http://127.0.0.1:${await freePort()}/auth/realms/esante-wallet`,
    upstreamUrl: upstream.url,
  })
  const gw = spawnGateway(base)
  const file = gw.file
  t.teardown(() => gw.stop('SIGKILL'))
  const url = `http://127.0.0.1:${port}`
  await until('the gateway to listen', async () => (await get(`${url}/public/x`)).status === 200)

  t.equal((await get(`${url}/nouveau/x`)).status, 503, 'not public yet: needs a login (PSC unreachable here)')

  // A valid change on disk is picked up without a restart.
  writeFileSync(
    file,
    withRoute(base, '  - name: nouveau\n    match: { pathPrefix: /nouveau }\n    upstream: app\n    access: public'),
  )
  await until('the file change to be applied', async () => (await get(`${url}/nouveau/x`)).status === 200)
  t.pass('new route in force after the file changed')

  // A bad file is refused, with file, line and key in the log; the previous configuration stays.
  writeFileSync(
    file,
    withRoute(base, '  - name: casse\n    match: { pathPrefx: /casse }\n    upstream: app\n    access: public'),
  )
  await until('the refusal to be logged', async () => gw.output.join('').includes('reload refused'))
  const log = gw.output.join('')
  t.match(log, /gateway\.yaml:\d+:\d+: routes\[\d\]\.match\.pathPrefx: unknown key/, 'the log names file, line and key')
  t.equal((await get(`${url}/nouveau/x`)).status, 200, 'the previous configuration is still in force')

  // SIGHUP reloads too; a request in flight finishes under the configuration it started with.
  const inFlight = get(`${url}/nouveau/slow?delay=1500`)
  await new Promise((r) => setTimeout(r, 200)) // so that the request is in flight at the upstream before the reload
  writeFileSync(file, base)
  gw.child.kill('SIGHUP')
  await until('the SIGHUP reload', async () => (await get(`${url}/nouveau/x`)).status === 503)
  const finished = await inFlight
  t.equal(finished.status, 200, 'the request in flight during the reload was not dropped')
  t.match(finished.body, /\/nouveau\/slow/)

  // SIGTERM: the request in flight completes, then the process exits 0.
  const draining = get(`${url}/public/slow?delay=1500`)
  await new Promise((r) => setTimeout(r, 200)) // so that the request is in flight at the upstream before SIGTERM
  const exited = gw.stop('SIGTERM')
  t.equal((await draining).status, 200, 'in-flight request drained')
  t.equal(await exited, 0, 'exit 0')
  await t.rejects(get(`${url}/public/x`), 'no longer accepting')
})
