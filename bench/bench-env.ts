// The variables bench/gateway.bench.yaml reads, one place for the bench's in-process gateway
// (gateway-server.ts) and its `serve` one (gateway-serve.ts).
import { randomBytes } from 'node:crypto'

export function gatewayBenchEnv(o: {
  port: number
  clientSecret: string
  upstreamUrl: string
  issuer: string
  auditFile: string
}): Record<string, string> {
  return {
    BENCH_GATEWAY_PORT: String(o.port),
    BENCH_CLIENT_SECRET: o.clientSecret,
    BENCH_UPSTREAM_URL: o.upstreamUrl,
    PSC_ISSUER: o.issuer,
    BENCH_AUDIT_FILE: o.auditFile,
    // a new audit key per run: the bench's trail is never verified later
    BENCH_AUDIT_KEY: randomBytes(32).toString('hex'),
  }
}
