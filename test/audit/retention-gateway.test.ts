// The gateway applies audit.retention by itself: at start, the rotated files past the retention go
// and their removals are written to the live file; after logrotate's SIGUSR2 (audit reopen) it runs
// again. The files left, with the live file, pass `audit verify`. Before: a gateway never removed
// a file.
import t from 'tap'
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { verifyAuditFiles } from '../../src/audit/tools/verify.js'
import { loadConfigText } from '../../src/config/load.js'
import { buildGateway } from '../../src/gateway.js'
import { KEY, sixMonths } from './retention-files.js'

async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

t.test('at start and after SIGUSR2 the gateway removes what outlived the retention, and verify passes', async (t) => {
  const { dir, file, sink } = await sixMonths()
  await sink.close()
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const config = loadConfigText(
    `publicUrl: https://dpi.ch-arles.fr
psc: { environment: bas, clientId: c, clientSecret: s }
session: { secrets: ["${'s'.repeat(40)}"] }
upstreams: { dpi: { url: "http://127.0.0.1:9" } }
routes:
  - { name: dpi, match: { pathPrefix: /dpi }, upstream: dpi, access: authenticated }
audit: { stdout: false, file: ${file}, hmacKey: "${KEY}", retention: 3 months, rotatedEvery: 30d }
`,
    'gateway.yaml',
    {},
  ).config
  let now = Date.UTC(2025, 5, 15, 12)
  const gateway = await buildGateway(config, { now: () => now, logStream: { write: () => {} } })
  t.teardown(() => gateway.close(0))
  // After a reopen the live file is created again at its first write.
  const removals = () =>
    (existsSync(file) ? readFileSync(file, 'utf8') : '')
      .split('\n')
      .filter((l) => l.includes('"event":"audit-retention"'))
  await until('the removals at start', () => removals().length === 3)
  t.same(readdirSync(dir).sort(), ['audit.log', 'audit.log-20250428', 'audit.log-20250528', 'audit.log.lock'])

  // logrotate moves the live file and sends SIGUSR2; three months later, April and May have outlived it.
  renameSync(file, `${file}-20250628`)
  now = Date.UTC(2025, 8, 1)
  gateway.audit.reopen()
  await until('the removals after the reopen', () => removals().length === 2)
  t.same(readdirSync(dir).sort(), ['audit.log', 'audit.log-20250628', 'audit.log.lock'])
  t.match(removals()[0], /"file":"audit\.log-20250428","lines":14,"lastSeq":13,"lastMac":"[A-Za-z0-9_-]{43}"/)

  await gateway.close(0)
  const report = await verifyAuditFiles([join(dir, 'audit.log-20250628'), file], Buffer.from(KEY), { threads: 0 })
  t.same(report.findings, [])
  t.equal(report.headRemovedByRetention?.removed, 'audit.log-20250528')
})
