// A gateway stack like test/helpers/stack.ts, but with the audit outputs the test asks for (the
// YAML `audit:` section, or an injected sink) instead of the capturing sink: to read real audit
// files and to put a slow destination behind the real queue.
import type { AuditSink } from '../../src/audit/events.js'
import { loadConfigText } from '../../src/config/load.js'
import type { GatewayConfig } from '../../src/config/types.js'
import { startDemoApp, type RunningDemoApp } from '../../dev/demo/app.js'
import { startEmulator, type RunningEmulator } from '../../dev/emulator/index.js'
import { buildGateway, type Gateway } from '../../src/gateway.js'
import { reservePort } from '../helpers/ports.js'
import { CLIENT_ID, CLIENT_SECRET, stackYaml, type StackOptions } from '../helpers/stack.js'
import { Writable } from 'node:stream'

export interface AuditStack {
  gateway: Gateway
  config: GatewayConfig
  url: string
  emulator: RunningEmulator
  upstream: RunningDemoApp
  logs: string[]
  adminUrl?: string | undefined
  close(): Promise<void>
}

export async function startAuditStack(opts: {
  auditYaml?: string
  audit?: AuditSink
  env?: Record<string, string>
  stack?: StackOptions
}): Promise<AuditStack> {
  const reserved = await reservePort()
  const port = reserved.port
  const publicUrl = `http://127.0.0.1:${port}`
  const upstream = await startDemoApp(0)
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
  const yaml =
    stackYaml({ port, issuer: emulator.issuer, upstreamUrl: upstream.url, ...opts.stack }) + (opts.auditYaml ?? '')
  const { config } = loadConfigText(yaml, 'audit-stack.yaml', { TEST_CLIENT_SECRET: CLIENT_SECRET, ...opts.env })
  const logs: string[] = []
  const logStream = new Writable({
    write(chunk: Buffer, _e, done) {
      logs.push(chunk.toString('utf8'))
      done()
    },
  })
  const gateway = await buildGateway(config, {
    audit: opts.audit,
    logStream: logStream as never,
    processMetrics: false,
  })
  await gateway.psc.start()
  const { adminUrl } = await gateway.listen(reserved)
  return {
    gateway,
    config,
    url: publicUrl,
    emulator,
    upstream,
    logs,
    adminUrl,
    async close() {
      await gateway.close()
      await upstream.close()
      await emulator.close()
    },
  }
}

/** A Writable that calls back only after `delayMs`: a disk that cannot keep up. */
export function slowStream(delayMs: number): Writable & { text: () => string; writes: number } {
  const chunks: string[] = []
  const stream = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'))
      ;(stream as unknown as { writes: number }).writes++
      setTimeout(done, delayMs)
    },
  })
  return Object.assign(stream, { text: () => chunks.join(''), writes: 0 })
}
