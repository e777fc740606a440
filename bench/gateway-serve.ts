// Bench target for the scaling measurements: the gateway run as production runs it,
// `node dist/cli.js serve --config FILE`, with `workers: N` when N > 1 (a primary and N worker
// processes), on bench/gateway.bench.yaml; the PSC emulator in a process of its own (used for the
// one login, idle during the measurements).
//
// Usage: gateway-serve.ts UPSTREAM_URL AUDIT_FILE WORKERS
// Prints `READY {"url": ..., "pid": ...}` once the port answers; on stdin's end (or SIGTERM) stops
// the gateway's whole process group (primary and workers) within 2 s.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { GATEWAY_NODE_FLAGS } from '../src/ops/runtime-tuning.js'
import { gatewayBenchEnv } from './bench-env.js'
import { startEmulatorProcess } from './emulator-process.js'
import { descendants } from './process-tree.js'
import { freePort, waitForPort } from '../test/helpers/ports.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = join(HERE, '..')
const [upstreamUrl, auditFile, workersArg] = process.argv.slice(2)
const workers = Number(workersArg)
if (!upstreamUrl || !auditFile || !Number.isInteger(workers) || workers < 1) {
  process.stderr.write('usage: gateway-serve.ts UPSTREAM_URL AUDIT_FILE WORKERS\n')
  process.exit(2)
}

const clientSecret = randomBytes(16).toString('hex')
const port = await freePort()
const publicUrl = `http://127.0.0.1:${port}`
const emulator = await startEmulatorProcess('psc-gateway-bench', clientSecret, publicUrl)

// One worker: no `workers` line at all, so that a build without the setting runs it too.
const yaml = readFileSync(join(HERE, 'gateway.bench.yaml'), 'utf8')
const configFile = `${auditFile}.yaml`
writeFileSync(configFile, workers > 1 ? `workers: ${workers}\n${yaml}` : yaml)

// As the image's entrypoint runs it (harness.ts's gatewayNodeFlags is not imported: harness.ts would
// install its signal handlers in this process).
const nodeFlags = process.env.BENCH_NODE_FLAGS === 'none' ? [] : GATEWAY_NODE_FLAGS
const gateway = spawn(process.execPath, [...nodeFlags, join(ROOT, 'dist', 'cli.js'), 'serve', '--config', configFile], {
  cwd: ROOT,
  // its own process group: the primary and its workers are stopped together
  detached: true,
  stdio: ['ignore', 'ignore', 'inherit'],
  env: {
    ...process.env,
    NODE_ENV: 'production',
    ...gatewayBenchEnv({ port, clientSecret, upstreamUrl, issuer: emulator.issuer, auditFile }),
  },
})
const killGroup = () => {
  try {
    process.kill(-gateway.pid!, 'SIGKILL')
  } catch {
    // already gone
  }
}
process.on('exit', killGroup)
gateway.once('exit', (code, signal) => {
  if (!stopping) {
    process.stderr.write(`gateway (serve, ${workers} worker(s)) exited: code ${code}, signal ${signal}\n`)
    process.exit(1)
  }
})

await waitForPort(port, 30_000, `psc-gateway serve (${workers} worker(s))`)
// The port answers once one worker listens: wait for all of them to exist (the warm-up run
// follows, so a worker still starting is not what the measured run sees).
for (const deadline = Date.now() + 30_000; workers > 1 && descendants(gateway.pid!).length < workers; ) {
  if (Date.now() > deadline) throw new Error(`fewer than ${workers} worker processes after 30 s`)
  await new Promise((resolve) => setTimeout(resolve, 100))
}
process.stdout.write(`READY ${JSON.stringify({ url: publicUrl, pid: gateway.pid })}\n`)

let stopping = false
const stop = () => {
  if (stopping) return
  stopping = true
  emulator.stop()
  gateway.once('exit', () => process.exit(0))
  try {
    process.kill(-gateway.pid!, 'SIGTERM')
  } catch {
    process.exit(0)
  }
  setTimeout(() => process.exit(0), 2000).unref()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.stdin.on('end', stop)
process.stdin.resume()
