// Bench target: the real gateway, in its own process, built like `psc-gateway serve` does it: the
// YAML of bench/gateway.bench.yaml through the real configuration loader, then buildGateway. The
// local PSC emulator runs in a process of its own (bench/emulator-process.ts; used for the one login before the
// measurements, and idles during them). The operational log goes to stderr at level "warn"; the
// audit trail is the gateway's own chained file sink (audit.file + hmacKey) writing to the file
// given as argv[3], so the cost of one audit line per request is counted.
//
// Usage: gateway-server.ts UPSTREAM_URL AUDIT_FILE
// Prints one line `READY {"url": ..., "issuer": ...}` on stdout; exits when stdin closes or on SIGTERM.
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { pino } from 'pino'
import { gatewayBenchEnv } from './bench-env.js'
import { startEmulatorProcess } from './emulator-process.js'
import { freePort } from '../test/helpers/stack.js'

// The gateway under test is the compiled one (dist/, built by the bench before it starts this
// process), as `psc-gateway serve` runs it in production; the types come from src/.
const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist')
const { applyGatewayRuntimeTuning } = (await import(
  pathToFileURL(join(DIST, 'ops', 'runtime-tuning.js')).href
)) as typeof import('../src/ops/runtime-tuning.js')
// As `psc-gateway serve` does at start-up.
applyGatewayRuntimeTuning()
const { loadConfigFile } = (await import(
  pathToFileURL(join(DIST, 'config', 'load.js')).href
)) as typeof import('../src/config/load.js')
const { buildGateway } = (await import(
  pathToFileURL(join(DIST, 'gateway.js')).href
)) as typeof import('../src/gateway.js')

const [upstreamUrl, auditFile] = process.argv.slice(2)
if (!upstreamUrl || !auditFile) {
  process.stderr.write('usage: gateway-server.ts UPSTREAM_URL AUDIT_FILE\n')
  process.exit(2)
}

const CLIENT_ID = 'psc-gateway-bench'
const clientSecret = randomBytes(16).toString('hex')
const port = await freePort()
const publicUrl = `http://127.0.0.1:${port}`

// The emulator runs in its own process: see bench/emulator-process.ts for why.
const emulator = await startEmulatorProcess(CLIENT_ID, clientSecret, publicUrl)
const { config, warnings } = loadConfigFile(
  join(dirname(fileURLToPath(import.meta.url)), 'gateway.bench.yaml'),
  gatewayBenchEnv({ port, clientSecret, upstreamUrl, issuer: emulator.issuer, auditFile }),
)
for (const w of warnings) process.stderr.write(`config warning: ${w}\n`)
// BENCH_REDIS_URL: the same gateway with the Redis session store (bench/session-stores.ts).
if (process.env.BENCH_REDIS_URL) {
  config.session.store = {
    ...config.session.store,
    type: 'redis',
    url: process.env.BENCH_REDIS_URL,
    keyPrefix: `bench-${port}:`,
  }
}

const gateway = await buildGateway(config, { logStream: pino.destination({ dest: 2, sync: false }) })
await gateway.psc.start()
const { url } = await gateway.listen()
process.stdout.write(
  `READY ${JSON.stringify({ url, publicUrl, issuer: emulator.issuer, logLevel: config.log.level })}\n`,
)

let stopping = false
const stop = () => {
  if (stopping) return
  stopping = true
  setTimeout(() => process.exit(0), 2000).unref()
  // gateway.close() flushes the audit file before it resolves.
  Promise.allSettled([gateway.close(), Promise.resolve(emulator.stop())]).then(() => process.exit(0))
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.stdin.on('end', stop)
process.stdin.resume()
