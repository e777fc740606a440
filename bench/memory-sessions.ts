// npm run bench:sessions [-- --sessions 50000]
//
// RSS of the gateway process holding N live sessions in the memory store (target: 50,000 under
// 256 MB). The gateway runs from dist/ (compiled, as in production) alone in its own process; the
// emulator and the upstream run here. One real login gives a real session; the gateway then makes
// N sessions shaped like it (own strings for every token and identity, as separate logins would),
// and a sample of them is checked live over HTTP with properly signed cookies.
import { sign } from '@fastify/cookie'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { startDemoApp } from '../dev/demo/app.js'
import { startEmulator } from '../dev/emulator/index.js'
import { BrowserLikeClient } from '../test/helpers/browser-like-client.js'
import { loginThroughEmulator } from '../test/helpers/emulator-login.js'
import { CLIENT_ID, CLIENT_SECRET, SESSION_SECRET, freePort, stackYaml } from '../test/helpers/stack.js'
import { buildDist, gatewayNodeFlags, ROOT } from './harness.js'

const { values } = parseArgs({
  options: { sessions: { type: 'string', default: process.env.BENCH_SESSIONS ?? '50000' } },
})
const N = Number(values.sessions)
const TARGET_MB = 256
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1)

async function main(): Promise<void> {
  buildDist()
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const upstream = await startDemoApp(0)
  const emulator = await startEmulator({
    port: 0,
    clients: [
      {
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUris: [`${url}/_psc/callback`],
        postLogoutRedirectUris: [`${url}/_psc/logged-out`],
      },
    ],
  })
  const child = spawn(
    process.execPath,
    [...gatewayNodeFlags(), '--expose-gc', join(ROOT, 'bench', 'memory-sessions-child.mjs')],
    {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  )
  const out = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const expect = async (prefix: string) => {
    for (;;) {
      const line = await out.next()
      if (line.done) throw new Error('gateway process ended')
      if (line.value.startsWith(prefix)) return JSON.parse(line.value.slice(prefix.length)) as Record<string, unknown>
    }
  }
  try {
    child.stdin.write(
      `${JSON.stringify({ yaml: stackYaml({ port, issuer: emulator.issuer, upstreamUrl: upstream.url }), env: { TEST_CLIENT_SECRET: CLIENT_SECRET } })}\n`,
    )
    await expect('READY ')
    const client = new BrowserLikeClient()
    await loginThroughEmulator(client, `${url}/`, '899700412345')
    const signed = decodeURIComponent(client.cookieValue(url, 'psc_session')!)
    child.stdin.write(`fill ${signed.slice(0, signed.lastIndexOf('.'))} ${N}\n`)
    const filled = (await expect('FILLED ')) as {
      before: NodeJS.MemoryUsage
      after: NodeJS.MemoryUsage
      size: number
      samples: string[]
    }
    let live = 0
    for (const id of filled.samples) {
      const res = await fetch(`${url}/?format=json`, {
        headers: { cookie: `psc_session=${encodeURIComponent(sign(id, SESSION_SECRET))}` },
      })
      const body = await res.text()
      if (res.status === 200 && body.includes('x-psc-idnat')) live++
    }
    const rss = filled.after.rss
    process.stdout.write(
      `\ngateway process (dist/, node ${process.version}), memory store, ${filled.size} live sessions; ${live}/${filled.samples.length} sampled sessions answered over HTTP\n` +
        `RSS ${mb(filled.before.rss)} MB with 1 session → ${mb(rss)} MB with ${filled.size}; heap used ${mb(filled.before.heapUsed)} → ${mb(filled.after.heapUsed)} MB ` +
        `(≈ ${Math.round((filled.after.heapUsed - filled.before.heapUsed) / N)} B per session)\n` +
        `target: ${N} sessions under ${TARGET_MB} MB RSS: ${rss / 2 ** 20 < TARGET_MB && live === filled.samples.length ? 'PASS' : 'MISSED'}\n`,
    )
  } finally {
    child.stdin.end()
    await new Promise((r) => child.once('exit', r))
    await emulator.close()
    await upstream.close()
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`)
    process.exit(1)
  },
)
