// The offline install bundle (npm run bundle): built once, extracted elsewhere, and run with only its
// own Node.js and node_modules, the npm registry unreachable and no node on PATH: `check` accepts
// the VM example configuration (TLS files, audit directory) and `serve` answers /healthz over HTTPS
// and on the admin port.
import { execFile, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { get as httpGet } from 'node:http'
import { get as httpsGet } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { makeTestPki } from '../helpers/pki.js'
import { sharedBundle } from '../helpers/shared-bundle.js'
import { freePort } from '../helpers/ports.js'
import { until } from '../helpers/until.js'

const run = promisify(execFile)
t.setTimeout(480_000) // a build, npm ci --omit=dev and compressing a Node binary on a loaded 2-core machine

const work = mkdtempSync(join(tmpdir(), 'psc-bundle-test-'))
t.teardown(() => rmSync(work, { recursive: true, force: true }))
const pki = makeTestPki()
t.teardown(() => pki.close())

/** No registry, no proxy, no node: what a hospital VM without Internet has. */
const OFFLINE_ENV = {
  PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: work,
  npm_config_registry: 'http://127.0.0.1:9',
  HTTP_PROXY: 'http://127.0.0.1:9',
  HTTPS_PROXY: 'http://127.0.0.1:9',
  PSC_CLIENT_SECRET: 'bundle-test-client-secret-0123456789',
  SESSION_SECRET: 'bundle-test-session-secret-0123456789abcdef',
  AUDIT_HMAC_KEY: 'bundle-test-audit-hmac-key-0123456789abcdef',
}

function fetchText(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? httpsGet : httpGet
    get(url, { ca: pki.caPem }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode!, body }))
    }).once('error', reject)
  })
}

t.test('npm run bundle, then the extracted bundle runs offline', async (t) => {
  // built once for this file and test/docs/vm.test.ts (the same `npm run bundle`)
  const { stdout } = await sharedBundle(420_000)
  const archive = stdout.trim().split('\n').at(-1)!
  t.match(archive, /psc-gateway-[\d.]+-linux-x64\.tar\.gz$/)
  const opt = join(work, 'opt')
  mkdirSync(opt)
  await run('tar', ['-xzf', archive, '-C', opt])
  const [top] = readdirSync(opt)
  const app = join(opt, top!)
  for (const f of [
    'dist/cli.js',
    'node/bin/node',
    'bin/psc-gateway',
    'systemd/psc-gateway.service',
    'config/gateway.example.yaml',
    'README.md',
    'INSTALL-vm.md',
  ])
    t.ok(existsSync(join(app, f)), `${f} in the bundle`)
  t.ok(existsSync(join(app, 'node_modules', 'fastify')), 'production dependencies')
  t.notOk(existsSync(join(app, 'node_modules', 'tap')), 'no development dependency')
  t.ok(statSync(join(app, 'node', 'bin', 'node')).mode & 0o111, 'node is executable')
  const { stdout: nodeVersion } = await run(join(app, 'node', 'bin', 'node'), ['--version'], { env: OFFLINE_ENV })
  t.match(nodeVersion, /^v24\./, 'Node 24 in the bundle')

  // The VM example configuration, with this test's certificate, directories and ports.
  const port = await freePort()
  const redirectPort = await freePort()
  const adminPort = await freePort()
  const auditDir = join(work, 'var', 'audit')
  const server = pki.issueServer('bundle-server', 30)
  const config = readFileSync(join(app, 'config', 'gateway.example.yaml'), 'utf8')
    .replace('/etc/psc-gateway/tls/fullchain.pem', server.certFile)
    .replace('/etc/psc-gateway/tls/privkey.pem', server.keyFile)
    .replace('/var/lib/psc-gateway/audit', auditDir)
    .replace('port: 8443', `port: ${port}`)
    .replace('port: 8080', `port: ${redirectPort}`)
    .replace('port: 9090', `port: ${adminPort}`)
    .replace('host: 0.0.0.0', 'host: 127.0.0.1')
    .replace('environment: bas', 'environment: custom\n  issuer: http://127.0.0.1:9\n  allowInsecureHttp: true')
  const file = join(work, 'gateway.yaml')
  writeFileSync(file, config)
  mkdirSync(auditDir, { recursive: true })

  const launcher = join(app, 'bin', 'psc-gateway')
  const checked = await run(launcher, ['check', '--config', file], { cwd: work, env: OFFLINE_ENV })
  t.match(checked.stdout, /gateway\.yaml: OK/, 'check accepts the VM configuration')

  const child = spawn(launcher, ['serve', '--config', file], {
    cwd: work,
    env: OFFLINE_ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output: string[] = []
  child.stdout.on('data', (c: Buffer) => output.push(c.toString()))
  child.stderr.on('data', (c: Buffer) => output.push(c.toString()))
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  await until(
    'the bundled gateway on its admin port',
    async () => (await fetchText(`http://127.0.0.1:${adminPort}/healthz`)).status === 200,
    30_000,
  )
  t.pass('/healthz answers on the admin port')
  const page = await fetchText(`https://127.0.0.1:${port}/`)
  t.ok(page.status >= 200 && page.status < 600, `HTTPS answers with the configured certificate (${page.status})`)
  t.equal((await fetchText(`http://127.0.0.1:${redirectPort}/`)).status, 308, 'the redirect listener')
  child.kill('SIGTERM')
  const code = await exited
  if (code !== 0) t.comment(output.join(''))
  t.equal(code, 0, 'SIGTERM stops it cleanly')
  t.ok(readdirSync(auditDir).length > 0, 'the audit file is written where the unit allows writing')
  t.notOk(existsSync(join(app, 'node_modules', '.cache')), 'nothing written in the application folder')
})
