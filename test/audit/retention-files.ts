// A trail of six months written to real files with an injected clock, rotated after each month's
// events and named as logrotate's dateext would, the oldest compressed: what the retention tests start from.
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { FileDestination } from '../../src/audit/fd-destination.js'
import { QueuedSink } from '../../src/audit/queued-sink.js'
import { AuditTrail } from '../../src/audit/trail.js'

export const KEY = 'retention-test-key-0123456789abcdef0123456'

export interface Trail {
  dir: string
  file: string
  trail: AuditTrail
  sink: QueuedSink
  setClock(ms: number): void
}

/** Six months of events, rotated on the first of each month (logrotate's dateext; the oldest compressed). */
export async function sixMonths(): Promise<Trail> {
  const dir = mkdtempSync(join(tmpdir(), 'audit-retention-'))
  const file = join(dir, 'audit.log')
  const dest = new FileDestination(file, { hmacKey: KEY, checkEveryMs: 0 })
  const sink = new QueuedSink(dest)
  let clock = 0
  const trail = new AuditTrail(sink, { now: () => clock })
  for (let month = 0; month < 6; month++) {
    clock = Date.UTC(2025, month, 1, 8)
    for (let i = 0; i < 10 + month; i++) {
      await trail.write({
        event: 'access',
        decision: 'allow',
        requestId: `m${month}-${i}`,
        client: '10.0.0.2',
        method: 'GET',
        path: `/dossier/${i}`,
        status: 200,
        durationMs: 1,
      })
      clock += 3_600_000
    }
    await sink.flush()
    if (month < 5) {
      const rotated = `${file}-2025${String(month + 1).padStart(2, '0')}28`
      renameSync(file, rotated)
      dest.reopen()
    }
  }
  // logrotate's compress: the oldest is gzip-compressed
  const oldest = join(dir, 'audit.log-20250128')
  writeFileSync(`${oldest}.gz`, gzipSync(readFileSync(oldest)))
  rmSync(oldest)
  return { dir, file, trail, sink, setClock: (ms) => (clock = ms) }
}
