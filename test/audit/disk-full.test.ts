// A full disk under the audit file (a real 256 KiB tmpfs), as issue 13 measured it: before, the
// chain broke (half lines, 28 events twice, 1,000 findings), requests hung, /readyz said ready, no
// metric moved, and SIGTERM exited 0 losing the queue. Now: the chain goes on intact once there is
// room again, every event once and in order; meanwhile the output says it cannot write (health,
// metric, one log line) and new requests get 503 after a bounded wait; a shutdown counts what it
// could not write, on stderr and in the exit code.
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AuditEvent } from '../../src/audit/events.js'
import { createAuditOutput } from '../../src/audit/sinks.js'
import { verifyAuditFiles } from '../../src/audit/tools/verify.js'
import { freePort } from '../helpers/stack.js'
import { spawnGateway, until } from '../helpers/gateway-process.js'
import { startAuditStack } from './audit-stack.js'
import { mountSmallDisk } from './tmpfs.js'
import { assertAuditLines } from './schema-lines.js'

const KEY = 'disk-full-test-hmac-key-0123456789abcdef'
const key = Buffer.from(KEY)

function accessEvent(i: number): AuditEvent {
  return {
    v: 1,
    time: new Date().toISOString(),
    event: 'access',
    decision: 'allow',
    requestId: `req-${String(i).padStart(6, '0')}`,
    client: '10.0.0.1',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0',
    route: 'dossiers',
    method: 'GET',
    path: `/dossier/${i}`,
    status: 200,
    durationMs: 1.5,
  }
}

const parse = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { event: string; requestId?: string })

t.test(
  'the queue in front of a full disk: no duplicate, no gap, the chain goes on; one report per outage',
  async (t) => {
    const disk = mountSmallDisk(256)
    t.teardown(() => disk.unmount())
    // The retry timer does not hold the process (a server's listener would).
    const hold = setInterval(() => {}, 1000)
    t.teardown(() => clearInterval(hold))
    const file = join(disk.dir, 'audit.log')
    const failing: string[] = []
    const recovered: number[] = []
    const out = createAuditOutput(
      {
        stdout: false,
        file,
        hmacKey: KEY,
        onBackpressure: 'block',
        includeQuery: false,
        maxQueuedEvents: 500,
        headEveryMs: 0,
      },
      {
        failing: (_name, err) => failing.push(err.message),
        recovered: (_name, n) => recovered.push(n),
      },
    )
    // Writers as the gateway's requests are: each waits when the queue is full.
    const N = 3000
    let written = 0
    const writers = (async () => {
      for (let i = 0; i < N; i++) {
        const w = out.write(accessEvent(i))
        written++
        if (w !== undefined) await w
      }
    })()
    await until('the disk to be full', async () => !out.health().ok, 30_000)
    t.match(out.health().reason, /ENOSPC/, 'the health says why')
    t.ok(out.writeFailures >= 1, 'failed writes counted')
    t.equal(await out.admit(300), false, 'a new request is refused after the bounded wait')
    await new Promise((r) => setTimeout(r, 2500)) // time passing: the writers must stay held back while the disk stays full
    t.ok(written < N, `writers are held back while the disk is full (${written} of ${N})`)
    t.equal(failing.length, 1, 'one report for the outage, however many retries')
    disk.grow(8192)
    await writers
    await out.flush()
    t.ok(out.health().ok, 'writable again')
    t.equal(out.admit(300), undefined, 'requests go on at once again')
    t.equal(recovered.length, 1, 'one report of the recovery')
    t.equal(await out.close(), 0, 'nothing left unwritten')
    const lines = parse(file)
    const ids = lines.filter((l) => l.event === 'access').map((l) => l.requestId)
    t.equal(ids.length, N, 'every event written')
    t.equal(new Set(ids).size, N, 'none twice')
    t.same(ids, [...ids].sort(), 'in order')
    t.equal(lines.filter((l) => l.event === 'gap').length, 0, 'block mode: nothing lost')
    const r = await verifyAuditFiles([file], key)
    t.same(r.findings, [], 'the chain verifies: no half line, no duplicate, no break')
    t.equal(r.chains, 1, 'one chain: the retry continued it rather than starting another')
    assertAuditLines(t, readFileSync(file, 'utf8'))
  },
)

t.test(
  'the gateway on a full disk: 503 after writeWait, /readyz not ready with the reason, a metric, one log line; then it recovers',
  async (t) => {
    const disk = mountSmallDisk(64)
    t.teardown(() => disk.unmount())
    const file = join(disk.dir, 'audit.log')
    const adminPort = await freePort()
    const stack = await startAuditStack({
      auditYaml: `audit:\n  stdout: false\n  file: ${file}\n  hmacKey: \${AUDIT_HMAC_KEY}\n  maxQueuedEvents: 50\n  writeWait: 1s\n`,
      env: { AUDIT_HMAC_KEY: KEY },
      stack: { adminPort },
    })
    t.teardown(() => stack.close())
    // Fill the disk behind the gateway's back, leaving it a few bytes.
    try {
      writeFileSync(join(disk.dir, 'filler'), Buffer.alloc(64 * 1024))
    } catch {
      /* ENOSPC: full, as wanted */
    }
    const statuses: number[] = []
    let stop = false
    const load = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (!stop) {
          const res = await fetch(`${stack.url}/public/item`).catch(() => undefined)
          if (res !== undefined) {
            statuses.push(res.status)
            await res.arrayBuffer()
          }
        }
      }),
    )
    await until(
      '/readyz to say not ready',
      async () => (await fetch(`${stack.adminUrl}/readyz`)).status === 503,
      20_000,
    )
    const ready = (await (await fetch(`${stack.adminUrl}/readyz`)).json()) as {
      checks: Record<string, { ok: boolean; reason?: string }>
    }
    t.equal(ready.checks.audit?.ok, false)
    t.match(ready.checks.audit?.reason, /audit file .*audit\.log: cannot write since .*ENOSPC/)
    const started = Date.now()
    const res = await fetch(`${stack.url}/public/item`, { headers: { accept: 'application/json' } })
    const waited = Date.now() - started
    t.equal(res.status, 503, 'a request gets 503 rather than hanging')
    t.match(await res.json(), { error: 'PSC_ERR_AUDIT_UNAVAILABLE' })
    t.ok(waited >= 900 && waited < 5000, `after the bounded wait (${waited} ms)`)
    const metrics = await (await fetch(`${stack.adminUrl}/metrics`)).text()
    t.match(metrics, /psc_gateway_audit_writable 0/)
    t.match(metrics, /psc_gateway_audit_write_failures_total [1-9]/)
    const failLines = stack.logs.filter((l) => l.includes('audit output cannot write'))
    t.equal(failLines.length, 1, 'one log line for the outage, not one per request')
    disk.grow(16384)
    await until(
      '/readyz to say ready again',
      async () => (await fetch(`${stack.adminUrl}/readyz`)).status === 200,
      20_000,
    )
    const after = await fetch(`${stack.url}/public/item`)
    t.equal(after.status, 200, 'served again')
    stop = true
    await load
    t.ok(statuses.includes(503), 'requests during the outage were refused, not served unaudited')
    await stack.gateway.audit.flush()
    const r = await verifyAuditFiles([file], key)
    t.same(r.findings, [], 'the file verifies')
    t.equal(
      stack.logs.filter((l) => l.includes('audit output writes again')).length,
      1,
      'one log line for the recovery',
    )
    assertAuditLines(t, readFileSync(file, 'utf8'))
  },
)

t.test('SIGTERM with a full queue on a full disk: the loss is counted on stderr and the exit code is 1', async (t) => {
  const disk = mountSmallDisk(64)
  t.teardown(() => disk.unmount())
  const file = join(disk.dir, 'audit.log')
  const port = await freePort()
  const gw = spawnGateway(
    `
listen: { host: 127.0.0.1, port: ${port} }
publicUrl: http://127.0.0.1:${port}
admin: { enabled: false }
psc: { environment: custom, issuer: "http://127.0.0.1:9/unused", clientId: c, clientSecret: "\${TEST_CLIENT_SECRET}", allowInsecureHttp: true }
session: { secrets: ["a-session-secret-of-at-least-32-characters"] }
upstreams: { app: { url: "http://127.0.0.1:9" } }
routes: [{ name: public, match: { pathPrefix: /public }, upstream: app, access: public }]
audit: { stdout: false, file: ${file}, hmacKey: "${KEY}", maxQueuedEvents: 100, writeWait: 1s, shutdownWait: 1s }
lifecycle: { shutdownGrace: 1s }
`,
    'disk-full',
  )
  t.teardown(() => gw.stop('SIGKILL'))
  await until('the gateway to listen', async () => gw.output.join('').includes('psc-gateway listening'), 90_000).catch(
    (err: Error) => {
      throw new Error(`${err.message}; it printed: ${gw.output.join('').slice(0, 2000)}`)
    },
  )
  try {
    writeFileSync(join(disk.dir, 'filler'), Buffer.alloc(64 * 1024))
  } catch {
    /* full */
  }
  // Requests whose events cannot be written: their events are queued. Whether a request comes
  // before or after the output finds the disk full (then it waits writeWait and gets a 503, its
  // refusal queued too) depends on timing; writeWait is short so that both end quickly.
  await Promise.all(
    Array.from({ length: 40 }, () =>
      fetch(`http://127.0.0.1:${port}/public/x`)
        .then((r) => r.arrayBuffer())
        .catch(() => undefined),
    ),
  )
  await until('the audit file to fail', async () => gw.output.join('').includes('audit output cannot write'), 30_000)
  const code = await gw.stop('SIGTERM')
  const out = gw.output.join('')
  t.equal(code, 1, 'a non-zero exit code')
  t.match(
    out,
    /psc-gateway audit: [1-9]\d* event\(s\) could not be written to the audit file .*audit\.log before shutdown/,
  )
})
