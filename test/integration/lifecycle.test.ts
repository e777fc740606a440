// The gateway process's life, through the real CLI: configuration reload on file change and on
// SIGHUP (a bad file is refused and the old configuration kept), and SIGTERM draining requests in
// flight before exiting 0.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { CLIENT_SECRET, freePort, stackYaml } from '../helpers/stack.js'

const ROOT = join(import.meta.dirname, '..', '..')

/** An upstream that answers after `?delay=ms`, and says which path it got. */
async function slowUpstream() {
  const server = createServer((req, res) => {
    const delay = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('delay') ?? 0)
    setTimeout(() => res.end(JSON.stringify({ url: req.url })), delay)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }) }
}

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

async function startGateway(file: string): Promise<{ child: ChildProcess; output: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), 'serve', '--config', file], {
    cwd: ROOT, env: { ...process.env, TEST_CLIENT_SECRET: CLIENT_SECRET }, stdio: ['ignore', 'pipe', 'pipe']
  })
  const output: string[] = []
  child.stdout!.on('data', (c: Buffer) => output.push(c.toString()))
  child.stderr!.on('data', (c: Buffer) => output.push(c.toString()))
  return { child, output }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const withRoute = (yaml: string, route: string) => yaml.replace('  - name: application', `${route}\n  - name: application`)

t.test('reload on file change and SIGHUP; a bad file is refused; SIGTERM drains', async (t) => {
  const upstream = await slowUpstream()
  t.teardown(() => upstream.close())
  const port = await freePort()
  const adminPort = await freePort()
  // PSC is not needed here (public routes only): an issuer nobody answers at.
  const base = stackYaml({ port, adminPort, issuer: `http://127.0.0.1:${await freePort()}/auth/realms/esante-wallet`, upstreamUrl: upstream.url })
  const dir = mkdtempSync(join(tmpdir(), 'psc-lifecycle-'))
  const file = join(dir, 'gateway.yaml')
  writeFileSync(file, base)
  const gw = await startGateway(file)
  t.teardown(() => { if (gw.child.exitCode === null) gw.child.kill('SIGKILL') })
  const url = `http://127.0.0.1:${port}`
  await until('the gateway to listen', async () => (await get(`${url}/public/x`)).status === 200)

  t.equal((await get(`${url}/nouveau/x`)).status, 503, 'not public yet: needs a login (PSC unreachable here)')

  // A valid change on disk is picked up without a restart.
  writeFileSync(file, withRoute(base, '  - name: nouveau\n    match: { pathPrefix: /nouveau }\n    upstream: app\n    access: public'))
  await until('the file change to be applied', async () => (await get(`${url}/nouveau/x`)).status === 200)
  t.pass('new route in force after the file changed')

  // A bad file is refused, with file, line and key in the log; the previous configuration stays.
  writeFileSync(file, withRoute(base, '  - name: casse\n    match: { pathPrefx: /casse }\n    upstream: app\n    access: public'))
  await until('the refusal to be logged', async () => gw.output.join('').includes('reload refused'))
  const log = gw.output.join('')
  t.match(log, /gateway\.yaml:\d+:\d+: routes\[\d\]\.match\.pathPrefx: unknown key/, 'the log names file, line and key')
  t.equal((await get(`${url}/nouveau/x`)).status, 200, 'the previous configuration is still in force')

  // SIGHUP reloads too; a request in flight finishes under the configuration it started with.
  const inFlight = get(`${url}/nouveau/slow?delay=1500`)
  await new Promise((r) => setTimeout(r, 200))
  writeFileSync(file, base)
  gw.child.kill('SIGHUP')
  await until('the SIGHUP reload', async () => (await get(`${url}/nouveau/x`)).status === 503)
  const finished = await inFlight
  t.equal(finished.status, 200, 'the request in flight during the reload was not dropped')
  t.match(finished.body, /\/nouveau\/slow/)

  // SIGTERM: the request in flight completes, then the process exits 0.
  const draining = get(`${url}/public/slow?delay=1500`)
  await new Promise((r) => setTimeout(r, 200))
  const exited = new Promise<number | null>((r) => gw.child.once('exit', (code) => r(code)))
  gw.child.kill('SIGTERM')
  t.equal((await draining).status, 200, 'in-flight request drained')
  t.equal(await exited, 0, 'exit 0')
  await t.rejects(get(`${url}/public/x`), 'no longer accepting')
})
