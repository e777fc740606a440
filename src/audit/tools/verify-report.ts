// What `audit verify` found (verify.ts), the exit code it gives and the text it prints: the findings
// with their file and line, the gaps and key changes the gateway itself recorded, and the chain head.
export type FindingKind =
  | 'edited'
  | 'unknown-key'
  | 'removed'
  | 'reordered'
  | 'truncated'
  | 'malformed'
  | 'time-backwards'

export interface Finding {
  file: string
  line: number
  kind: FindingKind
  message: string
}

export interface GapRecord {
  file: string
  line: number
  lost: number
  from: string
  to: string
  reason: string
}

export interface KeyChange {
  file: string
  line: number
  from: string | undefined
  to: string | undefined
}

/** A rotated file the gateway removed under audit.retention, as its audit-retention event says. */
export interface RetentionRemoval {
  file: string
  line: number
  removed: string
  lines: number
  lastSeq?: number | undefined
  lastMac?: string | undefined
}

export interface ChainHeadSeen {
  file: string
  line: number
  seq: number
  mac: string
  time?: string | undefined
}

export interface VerifyReport {
  ok: boolean
  findings: Finding[]
  /** the files in the order they were checked (chain order) */
  files: string[]
  lines: number
  /** chain-start lines seen */
  chains: number
  /** JSON lines of other logs (e.g. "log":"app" on a shared stdout), not part of the chain */
  skipped: number
  gaps: GapRecord[]
  /** events the gap records say were lost */
  lost: number
  keyChanges: KeyChange[]
  /** files removed by the gateway's retention (audit-retention events); the chain may start after them */
  removedByRetention?: RetentionRemoval[]
  /** the first file's chain continues from a removed file: the removal event that accounts for it */
  headRemovedByRetention?: RetentionRemoval
  /** --head-removed: the first file's chain continues from a file removed by something other than the gateway */
  headRemovedElsewhere?: { file: string; seq: number }
  /** the last authentic line: its seq:mac is what to keep for --expect-head next time */
  head?: ChainHeadSeen
  /** --expect-head: where the expected head was found */
  expectedHeadAt?: ChainHeadSeen
  firstTime?: string
  lastTime?: string
}

/** 0: intact and complete; 1: broken (findings); 3: intact, but events were lost (gap records). */
export function verifyExitCode(r: VerifyReport): number {
  if (!r.ok) return 1
  return r.gaps.length > 0 ? 3 : 0
}

export function formatVerifyReport(r: VerifyReport): string {
  let out = ''
  if (r.ok) {
    out +=
      `OK: ${r.files.length} file(s), ${r.lines} line(s), ${r.chains} chain start(s), intact` +
      (r.firstTime !== undefined ? `; from ${r.firstTime} to ${r.lastTime}` : '') +
      (r.skipped > 0 ? `; ${r.skipped} line(s) of other logs skipped` : '') +
      '\n'
  } else {
    const head = r.findings[0]!
    out +=
      `BROKEN: the chain breaks first at ${head.file}:${head.line} (${head.kind})\n` +
      r.findings.map((f) => `${f.file}:${f.line}: ${f.kind}: ${f.message}`).join('\n') +
      '\n' +
      `${r.findings.length} finding(s) in ${r.files.length} file(s), ${r.lines} line(s)\n`
  }
  if (r.gaps.length > 0) {
    out +=
      `GAPS: ${r.lost} event(s) lost in ${r.gaps.length} gap record(s) written by the gateway (not tampering: it recorded what it could not write)\n` +
      r.gaps
        .map((g) => `${g.file}:${g.line}: gap: ${g.lost} event(s) lost from ${g.from} to ${g.to} (${g.reason})`)
        .join('\n') +
      '\n'
  }
  if (r.headRemovedByRetention !== undefined) {
    const h = r.headRemovedByRetention
    out += `Retention: the chain starts after ${h.removed} (${h.lines} line(s), last seq ${h.lastSeq}), removed by the gateway under audit.retention (${h.file}:${h.line}); ${r.removedByRetention?.length ?? 1} file(s) removed in all\n`
  }
  if (r.headRemovedElsewhere !== undefined)
    out += `Note: ${r.headRemovedElsewhere.file} continues from seq ${r.headRemovedElsewhere.seq} of a file not given, removed outside the gateway (--head-removed): what it held is not checked\n`
  for (const k of r.keyChanges)
    out += `${k.file}:${k.line}: key change: from key id ${k.from ?? '(unknown)'} to ${k.to ?? '(unknown)'}, signed by the new key\n`
  if (r.files.length > 1) out += `Order checked: ${r.files.join(' ')}\n`
  if (r.expectedHeadAt !== undefined)
    out += `Expected head found at ${r.expectedHeadAt.file}:${r.expectedHeadAt.line}: nothing before it was cut or replaced\n`
  if (r.head !== undefined)
    out += `Head: ${r.head.seq}:${r.head.mac} (${r.head.file}:${r.head.line}${r.head.time !== undefined ? `, ${r.head.time}` : ''}); keep it to check these files later with --expect-head\n`
  if (r.ok && r.expectedHeadAt === undefined)
    out +=
      'Note: without --expect-head, lines cut from the very end of the newest file (or files replaced whole) cannot be detected: give the last chain head sent off the host (syslog, operational log).\n'
  return out
}
