// npm run bench:audit   (options: --duration 10 --warmup 2 --connections 50 --rounds 2)
// What the tamper-evident audit trail costs: the same gateway, same upstream, same logged-in
// request (route "authenticated", a real session cookie from a login through the emulator), with
//   audit off    audit.stdout: false, no file
//   audit file   the hash-chained file sink (HMAC-SHA256 per line, asynchronous batched writes)
// Each mode runs in its own gateway process (bench/audit-gateway-server.ts), the upstream in
// another (bench/upstream.ts), autocannon here. Rounds alternate off/file to spread drift.
// Target: audit file ≥ 0.9 × audit off in requests/s. Afterwards the file is verified and its
// access lines counted against the requests autocannon completed.
import autocannon, { type AutocannonResult } from 'autocannon'
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createReadStream, mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { randomBytes } from 'node:crypto'
import { verifyAuditFiles } from '../src/audit/tools/verify.js'
import { formatVerifyReport } from '../src/audit/tools/verify-report.js'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { BrowserLikeClient } from '../test/helpers/browser-like-client.js'
import { loginThroughEmulator } from '../test/helpers/emulator-login.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '2' },
  },
})
const DURATION = Number(values.duration)
const WARMUP = Number(values.warmup)
const CONNECTIONS = Number(values.connections)
const ROUNDS = Number(values.rounds)

const children: ChildProcessWithoutNullStreams[] = []
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
})

function startChild(file: string, args: string[]): Promise<{ proc: ChildProcessWithoutNullStreams; url: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', file), ...args], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production' },
  })
  children.push(proc)
  let err = ''
  proc.stderr.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-2000)
  })
  return new Promise((resolve, reject) => {
    let out = ''
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /^READY (.*)$/m.exec(out)
      if (m) resolve({ proc, url: (JSON.parse(m[1]!) as { url: string }).url })
    })
    proc.once('exit', (code) => reject(new Error(`${file} exited (${code}): ${err}`)))
  })
}

function stop(proc: ChildProcessWithoutNullStreams): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve()
    proc.once('exit', () => resolve())
    proc.stdin.end()
  })
}

function load(url: string, cookie: string, duration: number): Promise<AutocannonResult> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections: CONNECTIONS,
        duration,
        headers: { cookie },
        renderProgressBar: false,
        renderResultsTable: false,
        renderLatencyTable: false,
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    )
  })
}

async function countAccessLines(file: string): Promise<number> {
  let n = 0
  let rest = ''
  for await (const chunk of createReadStream(file, { encoding: 'utf8' })) {
    const parts = (rest + (chunk as string)).split('\n')
    rest = parts.pop()!
    for (const l of parts) if (l.includes('"event":"access"')) n++
  }
  return n
}

const dir = mkdtempSync(join(tmpdir(), 'audit-overhead-'))
const KEY = randomBytes(32).toString('hex')
process.env.AUDIT_BENCH_KEY = KEY
const files: { mode: string; auditFile: string }[] = []
const { proc: upstreamProc, url: upstreamUrl } = await startChild('upstream.ts', [])
process.stdout.write(
  `audit overhead bench: ${cpus().length} cores, node ${process.version}, ${CONNECTIONS} connections, ` +
    `${WARMUP} s warm-up + ${DURATION} s per run, ${ROUNDS} round(s) of off/file\n`,
)

const results: Record<'off' | 'file', number[]> = { off: [], file: [] }
const p99: Record<'off' | 'file', number[]> = { off: [], file: [] }
for (let round = 0; round < ROUNDS; round++) {
  for (const mode of (round % 2 === 0 ? ['off', 'file'] : ['file', 'off']) as ('off' | 'file')[]) {
    const auditFile = join(dir, `audit-${mode}-${round}.log`)
    const { proc, url } = await startChild('audit-gateway-server.ts', [upstreamUrl, mode, auditFile])
    files.push({ mode, auditFile })
    const client = new BrowserLikeClient()
    const landed = await loginThroughEmulator(client, `${url}/bench`, '899700218896')
    const session = client.cookieValue(url, 'psc_session')
    if (landed.status !== 200 || session === undefined)
      throw new Error(`login failed: ${landed.status} at ${landed.url}`)
    const cookie = `psc_session=${session}`
    if (WARMUP > 0) await load(`${url}/bench/item`, cookie, WARMUP)
    const r = await load(`${url}/bench/item`, cookie, DURATION)
    await stop(proc)
    const non2xx = r.non2xx + r.errors + r.timeouts
    results[mode].push(r.requests.average)
    p99[mode].push(r.latency.p99)
    let extra = ''
    if (mode === 'file') {
      const lines = await countAccessLines(auditFile)
      // warm-up + measured requests + the login's own requests, all in the file
      extra = `, ${lines} access lines in the file for ${r.requests.total} measured requests (+ warm-up and login)`
    }
    process.stdout.write(
      `  round ${round + 1} audit ${mode.padEnd(4)}: ${r.requests.average.toFixed(0)} req/s, p99 ${r.latency.p99} ms, non-2xx/errors ${non2xx}${extra}\n`,
    )
  }
}
await stop(upstreamProc)
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
const ratio = avg(results.file) / avg(results.off)
process.stdout.write(
  `\naudit off : ${avg(results.off).toFixed(0)} req/s (p99 ${avg(p99.off).toFixed(1)} ms)\n` +
    `audit file: ${avg(results.file).toFixed(0)} req/s (p99 ${avg(p99.file).toFixed(1)} ms)\n` +
    `ratio file/off: ${ratio.toFixed(3)}×   target ≥ 0.9×   ${ratio >= 0.9 ? 'PASS' : 'MISSED'}\n`,
)

// The chains written under load must verify.
for (const f of files.filter((x) => x.mode === 'file')) {
  process.stdout.write(
    `verify ${f.auditFile.slice(dir.length + 1)}: ${formatVerifyReport(await verifyAuditFiles([f.auditFile], Buffer.from(KEY))).split('\n')[0]}\n`,
  )
}
rmSync(dir, { recursive: true, force: true })
process.exit(0)
