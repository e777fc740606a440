// The production path the Docker image runs, without Docker (base images cannot be pulled here):
// compile, install production dependencies only into a clean folder, copy what the Dockerfile's
// runtime stage copies, and start the image's ENTRYPOINT + CMD with a mounted-style config and
// secrets from the environment and from a file. Then: probes, metrics, a public route, a whole
// PSC login against the emulator, the image's HEALTHCHECK command, SIGTERM → exit 0, and no file
// written in the application folder (the image runs with a read-only root filesystem).
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { GATEWAY_NODE_FLAGS } from '../../src/ops/runtime-tuning.js'
import { startDemoApp } from '../../dev/demo/app.js'
import { startEmulator } from '../../dev/emulator/index.js'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { CLIENT_ID, CLIENT_SECRET, freePort, SESSION_SECRET } from '../helpers/stack.js'
import { parseDockerfile, runtimeStage } from './dockerfile.js'

const run = promisify(execFile)
const ROOT = join(dirname(new URL(import.meta.url).pathname), '..', '..')
const MEDECIN = '899700218896'

t.setTimeout(360_000) // npm ci and a build on a loaded 2-core machine

const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))
const runtime = runtimeStage(dockerfile)

t.test('the Dockerfile runtime stage is what this test runs', async (t) => {
  t.ok(dockerfile.stages.length >= 2, 'multi-stage')
  t.match(
    dockerfile.stages[0]!.instructions.find((i) => i.op === 'RUN' && i.args.includes('npm run build'))?.args,
    /npm run build/,
    'build stage compiles',
  )
  t.same(runtime.env.NODE_ENV, 'production')
  t.ok(runtime.npmCi, 'runtime dependencies installed with npm ci')
  t.match(runtime.npmCi!, /--omit=dev/)
  t.ok(
    runtime.copies.some((c) => c.from === 'build' && c.sources.join() === '/app/dist' && c.dest === './dist'),
    'dist/ from the build stage',
  )
  t.ok(
    runtime.copies.some((c) => c.from === 'deps' && c.sources.join() === '/app/node_modules'),
    'node_modules from the production install stage',
  )
  // Node 24 (LTS), not the end-of-life 20.
  const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1]
  t.match(base, /^node:24-/, 'the image is built on Node 24')
  t.equal(runtime.labels['org.opencontainers.image.base.name'], base, 'the base image label names the base image')
  for (const l of ['title', 'version', 'revision', 'created', 'licenses', 'source'])
    t.ok(runtime.labels[`org.opencontainers.image.${l}`], `OCI label ${l}`)
  // No package manager in the runtime stage (the node image ships npm, npx, corepack and yarn).
  for (const p of [
    '/usr/local/lib/node_modules',
    '/usr/local/bin/npm',
    '/usr/local/bin/npx',
    '/usr/local/bin/corepack',
  ])
    t.ok(runtime.removed.includes(p), `${p} removed`)
  t.equal(runtime.user, '1000:1000', 'uid 1000')
  t.ok(runtime.user && !/^(0|root)(:|$)/.test(runtime.user), `non-root user (${runtime.user})`)
  // node's flags for a gateway process go on its command line (src/ops/runtime-tuning.ts)
  t.same(runtime.entrypoint, ['node', ...GATEWAY_NODE_FLAGS, 'dist/cli.js'])
  t.same(runtime.cmd, ['serve', '--config', '/etc/psc-gateway/gateway.yaml'])
  t.match(runtime.healthcheck?.join(' '), /\/healthz/)
  const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  for (const c of runtime.copies.filter((c) => c.from === undefined)) {
    for (const s of c.sources)
      t.match(dockerignore, new RegExp(`^!${s.replace(/[.*]/g, '\\$&')}$`, 'm'), `${s} is let into the build context`)
  }
})

t.test('npm ci --omit=dev in a clean folder, then the image command serves', async (t) => {
  const app = mkdtempSync(join(tmpdir(), 'psc-gateway-image-'))
  t.teardown(() => rmSync(app, { recursive: true, force: true }))

  // Build stage: the project's build script, into the folder the runtime stage copies.
  await run('npm', ['run', 'build', '--', '--outDir', join(app, 'dist')], { cwd: ROOT })
  // Runtime stage: its COPY lines (from the context) and its npm ci line, as written.
  for (const c of runtime.copies.filter((c) => c.from === undefined)) {
    for (const s of c.sources) {
      const dest = c.dest.endsWith('/') ? join(app, c.dest, s.split('/').pop()!) : join(app, c.dest)
      mkdirSync(dirname(dest), { recursive: true })
      cpSync(join(ROOT, s), dest, { recursive: true })
    }
  }
  // The deps stage: package.json and the lockfile, then its npm ci.
  cpSync(join(ROOT, 'package-lock.json'), join(app, 'package-lock.json'))
  await run('sh', ['-c', `${runtime.npmCi!} --prefer-offline`], { cwd: app })
  rmSync(join(app, 'package-lock.json'))
  t.notOk(existsIn(app, 'node_modules/tap'), 'no dev dependency installed')
  t.notOk(existsIn(app, 'node_modules/typescript'), 'no TypeScript at run time')
  t.notOk(existsIn(app, 'node_modules/oidc-provider'), 'no PSC emulator dependency at run time')
  t.notOk(
    existsIn(app, 'dist/emulator') || existsIn(app, 'dist/demo') || existsIn(app, 'dev'),
    'the emulator and the demo (dev/) are not built nor copied',
  )
  t.ok(existsIn(app, 'node_modules/fastify'))
  // The product's command line does not offer the emulator (dev/cli.ts does): a usage error, no stack trace.
  const emulatorCmd = await run(runtime.entrypoint[0]!, [...runtime.entrypoint.slice(1), 'emulator'], {
    cwd: app,
  }).then(
    () => ({ code: 0, stderr: '' }),
    (e: { code?: number; stderr?: string }) => ({ code: e.code, stderr: e.stderr ?? '' }),
  )
  t.equal(emulatorCmd.code, 2)
  t.match(emulatorCmd.stderr, /^psc-gateway: unknown command "emulator"/)
  t.notMatch(emulatorCmd.stderr, /\n\s+at /, 'no stack trace')

  // Mounted config and secrets, as a Kubernetes pod has them.
  const etc = mkdtempSync(join(tmpdir(), 'psc-gateway-etc-'))
  t.teardown(() => rmSync(etc, { recursive: true, force: true }))
  const [port, adminPort] = [await freePort(), await freePort()]
  const publicUrl = `http://127.0.0.1:${port}`
  const upstream = await startDemoApp(0)
  t.teardown(() => upstream.close())
  const emulator = await startEmulator({
    port: 0,
    clients: [
      {
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUris: [`${publicUrl}/_psc/callback`],
        postLogoutRedirectUris: [`${publicUrl}/_psc/logged-out`],
      },
    ],
  })
  t.teardown(() => emulator.close())
  writeFileSync(join(etc, 'session-secret'), `${SESSION_SECRET}\n`)
  const configFile = join(etc, 'gateway.yaml')
  writeFileSync(
    configFile,
    `
listen: { host: 127.0.0.1, port: ${port} }
publicUrl: ${publicUrl}
admin: { enabled: true, host: 127.0.0.1, port: ${adminPort} }
psc:
  environment: custom
  issuer: ${emulator.issuer}
  clientId: ${CLIENT_ID}
  clientSecret: \${PSC_CLIENT_SECRET}
  allowInsecureHttp: true
session:
  secrets: ["\${SESSION_SECRET}"]
upstreams:
  app: { url: "${upstream.url}" }
routes:
  - { name: public, match: { pathPrefix: /public }, upstream: app, access: public }
  - { name: application, upstream: app, access: authenticated }
`,
  )
  const before = snapshot(app)
  const cmd = runtime.cmd.map((a) => (a === '/etc/psc-gateway/gateway.yaml' ? configFile : a))
  const env = {
    PATH: process.env.PATH,
    NODE_ENV: runtime.env.NODE_ENV,
    HOME: etc,
    PSC_CLIENT_SECRET: CLIENT_SECRET,
    SESSION_SECRET_FILE: join(etc, 'session-secret'),
  }
  const child = spawn(runtime.entrypoint[0]!, [...runtime.entrypoint.slice(1), ...cmd], {
    cwd: app,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (d: Buffer) => {
    output += d.toString()
  })
  child.stderr!.on('data', (d: Buffer) => {
    output += d.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })

  const admin = `http://127.0.0.1:${adminPort}`
  await waitFor(
    async () => (await fetch(`${admin}/readyz`)).status === 200,
    child,
    () => output,
  )

  t.same(await (await fetch(`${admin}/healthz`)).json(), { status: 'ok' })
  const ready = (await (await fetch(`${admin}/readyz`)).json()) as {
    status: string
    checks: Record<string, { ok: boolean }>
  }
  t.equal(ready.status, 'ready')
  t.same(Object.keys(ready.checks).sort(), ['audit', 'config', 'lifecycle', 'psc', 'sessions'])
  const metrics = await fetch(`${admin}/metrics`)
  t.equal(metrics.status, 200)
  t.match(metrics.headers.get('content-type'), /^text\/plain/)
  t.match(await metrics.text(), /psc_gateway_psc_calls_total\{endpoint="discovery",outcome="ok"\} 1/)

  const pub = await fetch(`${publicUrl}/public/hello?format=json`)
  t.equal(pub.status, 200)
  t.match(await pub.json(), { url: '/public/hello?format=json' })
  const publicMetrics = await fetch(`${publicUrl}/metrics`, { redirect: 'manual' })
  t.not(publicMetrics.status, 200, '/metrics is not served on the public port')
  t.notMatch(await publicMetrics.text(), /psc_gateway_/)

  const client = new BrowserLikeClient()
  const landed = await loginThroughEmulator(client, `${publicUrl}/dossier?format=json`, MEDECIN)
  t.equal(landed.status, 200)
  t.match(JSON.parse(landed.body), { headers: { 'x-psc-idnat': MEDECIN } })

  // The image's HEALTHCHECK, run as Docker would (exec form), pointed at this admin port.
  const [hcCmd, ...hcArgs] = runtime.healthcheck!
  const hc = await run(hcCmd!, hcArgs, { env: { ...env, ADMIN_PORT: String(adminPort) } }).then(
    () => 0,
    (e: { code?: number }) => e.code ?? 1,
  )
  t.equal(hc, 0, 'HEALTHCHECK passes')
  const hcDown = await run(hcCmd!, hcArgs, { env: { ...env, ADMIN_PORT: String(await freePort()) } }).then(
    () => 0,
    (e: { code?: number }) => e.code ?? 1,
  )
  t.equal(hcDown, 1, 'HEALTHCHECK fails when nothing answers')

  child.kill('SIGTERM')
  t.equal(await exited, 0, 'SIGTERM: clean exit')
  t.match(output, /psc-gateway shutting down/)
  t.match(output, /"signal":"SIGTERM".*psc-gateway stopped cleanly/, 'a clean shutdown line in the log')
  t.same(snapshot(app), before, 'nothing written in the application folder')
  t.notMatch(output, new RegExp(`${CLIENT_SECRET}|${SESSION_SECRET}`), 'no secret in the output')
  t.match(output, /psc-gateway listening/)
})

function existsIn(dir: string, path: string): boolean {
  try {
    statSync(join(dir, path))
    return true
  } catch {
    return false
  }
}

/** every file and folder of `dir` with its size and mtime */
function snapshot(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      const s = statSync(p)
      out.push(`${p.slice(dir.length)} ${s.size} ${s.mtimeMs}`)
      if (e.isDirectory()) walk(p)
    }
  }
  walk(dir)
  return out.sort()
}

async function waitFor(ok: () => Promise<boolean>, child: ChildProcess, output: () => string): Promise<void> {
  // 60 s, as the other tests that start a gateway process: at load 20 on 2 cores a start took over 20 s.
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the gateway exited with ${child.exitCode}:\n${output()}`)
    if (await ok().catch(() => false)) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`the gateway did not become ready in 60 s:\n${output()}`)
}
