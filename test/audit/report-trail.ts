// A real chained trail for the report's tests, written by the gateway's own trail writer
// (FileDestination behind a QueuedSink) and rotated as logrotate leaves it (audit.log.1.gz,
// audit.log), with a week of logins, refusals, CIBA pushes and a night and a weekend session.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import type { AuditEvent } from '../../src/audit/events.js'
import { FileDestination } from '../../src/audit/fd-destination.js'
import { QueuedSink } from '../../src/audit/queued-sink.js'
import { TYPESCRIPT_NODE_ARGS } from '../helpers/typescript-node.js'

export const KEY = 'report-test-key-0123456789abcdef0123456789'
const ROOT = join(import.meta.dirname, '..', '..')

const base = { v: 1 as const, method: 'GET', path: '/', durationMs: 1 }
let n = 0
const access = (time: string, decision: 'allow' | 'deny', over: Record<string, unknown>): AuditEvent =>
  ({
    ...base,
    time,
    event: 'access',
    decision,
    requestId: `r${n++}`,
    status: decision === 'allow' ? 200 : 403,
    ...over,
  }) as AuditEvent
const login = (time: string, outcome: 'succeeded' | 'failed', over: Record<string, unknown>): AuditEvent =>
  ({ ...base, time, event: 'login', outcome, requestId: `r${n++}`, status: 302, ...over }) as AuditEvent
const ciba = (time: string, outcome: string): AuditEvent =>
  ({ v: 1, time, event: 'ciba', outcome, idNat: '810000000003', client: '10.1.0.3' }) as AuditEvent

/** What the trail holds, for the tests to compare with. */
export const EXPECTED = {
  days: ['2026-11-02', '2026-11-03', '2026-11-07'],
  routes: ['dpi', 'pharmacie'],
  professions: ['Médecin', 'Infirmier', 'Pharmacien', '(inconnue)'],
  ciba: { requested: 2, approved: 1, expired: 1 },
  topPractitioner: ['810000000002', 5],
  topClient: ['10.6.6.6', 5],
  offHoursSessions: ['NIGHTSESSION0001', 'WEEKENDSESSION01'],
}

function events(): AuditEvent[][] {
  const doc = { idNat: '810000000001', profession: '10', client: '10.1.0.1' }
  const nurse = { idNat: '810000000003', profession: '60', client: '10.1.0.3' }
  const intruder = { idNat: '810000000002', profession: '21', client: '10.6.6.6' }
  return [
    [
      // Monday 2 November, 09:00 local (08:00Z)
      login('2026-11-02T08:00:00.000Z', 'succeeded', { ...doc, session: 'DOCSESSION000001' }),
      access('2026-11-02T08:00:01.000Z', 'allow', { ...doc, session: 'DOCSESSION000001', route: 'dpi' }),
      access('2026-11-02T08:05:00.000Z', 'allow', { ...doc, session: 'DOCSESSION000001', route: 'dpi' }),
      login('2026-11-02T09:00:00.000Z', 'failed', { client: '10.6.6.6', idNat: '810000000002' }),
      login('2026-11-02T09:01:00.000Z', 'succeeded', { ...intruder, session: 'PHARMASESSION001' }),
      access('2026-11-02T09:01:05.000Z', 'deny', { ...intruder, session: 'PHARMASESSION001', route: 'dpi' }),
      access('2026-11-02T09:01:06.000Z', 'deny', { ...intruder, session: 'PHARMASESSION001', route: 'dpi' }),
    ],
    [
      // Tuesday 3 November: a CIBA login at 10:00 local, a refusal, a night session at 22:30 local
      ciba('2026-11-03T09:00:00.000Z', 'requested'),
      ciba('2026-11-03T09:00:30.000Z', 'approved'),
      login('2026-11-03T09:00:31.000Z', 'succeeded', { ...nurse, session: 'NURSESESSION0001', loginMethod: 'ciba' }),
      access('2026-11-03T09:01:00.000Z', 'deny', { ...intruder, session: 'PHARMASESSION001', route: 'pharmacie' }),
      ciba('2026-11-03T10:00:00.000Z', 'requested'),
      ciba('2026-11-03T10:02:00.000Z', 'expired'),
      login('2026-11-03T21:30:00.000Z', 'succeeded', { ...doc, session: 'NIGHTSESSION0001' }),
      access('2026-11-03T21:31:00.000Z', 'allow', { ...doc, session: 'NIGHTSESSION0001', route: 'pharmacie' }),
      // Saturday 7 November 11:00 local
      access('2026-11-07T10:00:00.000Z', 'allow', { ...doc, session: 'WEEKENDSESSION01', route: 'dpi' }),
      access('2026-11-07T10:00:05.000Z', 'deny', { ...intruder, session: 'WEEKENDSESSION02', route: 'dpi' }),
      // Tuesday 10 November: after the window
      login('2026-11-10T08:00:00.000Z', 'succeeded', { ...doc, session: 'LATERSESSION0001' }),
    ],
  ]
}

/** Writes the trail (with a gap record: events the gateway could not write); returns its directory and files (oldest first). */
export async function writeTrail(options: { gap?: boolean } = {}): Promise<{ dir: string; files: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'audit-report-'))
  const file = join(dir, 'audit.log')
  const dest = new FileDestination(file, { hmacKey: KEY, checkEveryMs: 0 })
  const sink = new QueuedSink(dest)
  const [first, second] = events()
  for (const e of first!) sink.write(e)
  await sink.flush()
  renameSync(file, `${file}.1`)
  dest.reopen()
  for (const e of second!) sink.write(e)
  if (options.gap === true) {
    // As the outputs write it in the lost events' place (queued-sink.ts), chained like any line.
    const gap = { v: 1, time: '2026-11-04T10:00:00.000Z', event: 'gap', lost: 7, from: '2026-11-04T09:59:00.000Z' }
    sink.write({ ...gap, to: '2026-11-04T10:00:00.000Z', reason: 'queue-full' } as unknown as AuditEvent)
  }
  await sink.close()
  writeFileSync(`${file}.1.gz`, gzipSync(readFileSync(`${file}.1`)))
  rmSync(`${file}.1`)
  return { dir, files: [`${file}.1.gz`, file] }
}

export function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [...TYPESCRIPT_NODE_ARGS, join(ROOT, 'src', 'cli.ts'), 'audit', ...args], {
    cwd: ROOT,
    env: { ...process.env, AUDIT_HMAC_KEY: KEY, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}
