// The audit retention the configuration promises must be one the gateway can keep: it removes
// rotated files only, so it needs a file, and a live file that rotates well within the retention.
import { parseDuration } from './duration.js'
import type { Checks } from './checks.js'
import type { RawConfig } from './schema.js'
import { parseRetention, shortestMs } from '../audit/retention-period.js'

export function checkAuditRetention(raw: RawConfig, checks: Checks): void {
  const a = raw.audit
  if (a.retention === undefined) {
    if (a.rotatedEvery !== undefined)
      checks.error(
        ['audit', 'rotatedEvery'],
        'audit.rotatedEvery is only read with audit.retention: add it, or remove this key',
      )
    return
  }
  const at = ['audit', 'retention']
  if (a.file === undefined) {
    checks.error(
      at,
      "audit.retention needs audit.file: the gateway removes only the files it writes. Audit to stdout or syslog only: retention is the log platform's job (set it there, and state that duration in Datapass: declaration.retentionMonths)",
    )
    return
  }
  const period = parseRetention(a.retention)
  if (period === undefined) return // the schema's pattern said so already
  if (a.rotatedEvery === undefined) {
    checks.error(
      at,
      'audit.retention needs audit.rotatedEvery, how often logrotate rotates the file (e.g. 1d for daily): the gateway cannot remove the live file, so its age is part of what is kept',
    )
    return
  }
  const rotation = parseDuration(a.rotatedEvery)
  if (rotation !== undefined && rotation >= shortestMs(period)) {
    checks.error(
      ['audit', 'rotatedEvery'],
      `audit.retention (${a.retention}${checks.lineOf(at)}) is not longer than the rotation period (${a.rotatedEvery}): the live file would hold lines older than the retention, which the gateway cannot remove. Rotate more often, or keep longer`,
    )
  }
}
