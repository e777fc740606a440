// Bench target for bench/audit-overhead.ts: the real gateway in its own process, its audit built
// from the configuration like `serve` does, in one of two modes:
//   off    audit.stdout: false and no file (no audit output at all)
//   file   audit.stdout: false, audit.file with the HMAC chain (the tamper-evident production setup)
// The local PSC emulator runs in its own process for the one login. Operational log: stderr, warn.
// Usage: audit-gateway-server.ts UPSTREAM_URL off|file AUDIT_FILE
// Prints `READY {"url": ...}`; exits when stdin closes, after flushing the audit file.
import { randomBytes } from 'node:crypto'
import { pino } from 'pino'
import { loadConfigText } from '../src/config/load.js'
import { startEmulatorProcess } from './emulator-process.js'
import { buildGateway } from '../src/gateway.js'
import { freePort } from '../test/helpers/stack.js'

const [upstreamUrl, mode, auditFile] = process.argv.slice(2)
if (!upstreamUrl || (mode !== 'off' && mode !== 'file') || !auditFile) {
  process.stderr.write('usage: audit-gateway-server.ts UPSTREAM_URL off|file AUDIT_FILE\n')
  process.exit(2)
}
const clientSecret = randomBytes(16).toString('hex')
const port = await freePort()
const publicUrl = `http://127.0.0.1:${port}`
// The emulator runs in its own process: see bench/emulator-process.ts for why.
const emulator = await startEmulatorProcess('psc-gateway-bench', clientSecret, publicUrl)
const yaml = `
listen: { host: 127.0.0.1, port: ${port} }
publicUrl: "${publicUrl}"
admin: { enabled: false }
log: { level: warn }
psc:
  environment: custom
  issuer: "${emulator.issuer}"
  clientId: psc-gateway-bench
  clientSecret: \${SECRET}
  allowInsecureHttp: true
session: { secrets: [bench-only-session-secret-not-for-production-0001] }
upstreams: { app: { url: "${upstreamUrl}" } }
routes:
  - name: application
    upstream: app
    access: authenticated
audit:
  stdout: false
${mode === 'file' ? `  file: ${auditFile}\n  hmacKey: \${AUDIT_HMAC_KEY}\n` : ''}`
const { config } = loadConfigText(yaml, 'audit-bench.yaml', {
  SECRET: clientSecret,
  AUDIT_HMAC_KEY: process.env.AUDIT_BENCH_KEY ?? randomBytes(32).toString('hex'),
})
const gateway = await buildGateway(config, {
  logStream: pino.destination({ dest: 2, sync: false }),
  processMetrics: false,
})
await gateway.psc.start()
const { url } = await gateway.listen()
process.stdout.write(`READY ${JSON.stringify({ url })}\n`)

let stopping = false
const stop = () => {
  if (stopping) return
  stopping = true
  setTimeout(() => process.exit(0), 5000).unref()
  void Promise.allSettled([gateway.close(1000), Promise.resolve(emulator.stop())]).then(() => process.exit(0))
}
process.on('SIGTERM', stop)
process.stdin.on('end', stop)
process.stdin.resume()
