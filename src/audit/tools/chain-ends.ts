// The ends of the chain that audit verify checks beyond its lines: the head seen earlier
// (--expect-head) must be in the files, and a chain whose first files are missing is accepted only
// when an audit-retention event in the files (or --head-removed) accounts for them.
import type { Finding, RetentionRemoval, VerifyReport } from './verify-report.js'

const MAX_LISTED = 1000

export class UsageProblem extends Error {}

/** "seq:mac" → its parts; throws a UsageProblem naming what is wrong. */
export function parseHead(text: string): { seq: number; mac: string } {
  const m = /^(\d+):([A-Za-z0-9_-]{43})$/.exec(text.trim())
  if (m === null)
    throw new UsageProblem(
      `--expect-head: expected SEQ:MAC as the chain head lines and the audit log give it (e.g. 1234:${'A'.repeat(43)}), got ${JSON.stringify(text)}`,
    )
  return { seq: Number(m[1]), mac: m[2]! }
}

export class ChainEnds {
  /** the head seen earlier, which must be in the files */
  readonly expect: { seq: number; mac: string } | undefined
  /** the first chain-start names a line before it that is not in the files */
  #missingHead: { file: string; line: number; seq: number; mac: string } | undefined
  #removals: RetentionRemoval[] = []
  #headRemovedElsewhere: boolean

  constructor(options: { expectHead?: string | undefined; headRemoved?: boolean | undefined }) {
    this.#headRemovedElsewhere = options.headRemoved === true
    this.expect = options.expectHead === undefined ? undefined : parseHead(options.expectHead)
  }

  /** A chain-start names a line before it, and no line came before: the first one only counts. */
  headMissing(at: { file: string; line: number; seq: number; mac: string }): void {
    this.#missingHead ??= at
  }

  /** An audit-retention event: a rotated file the gateway removed, and its last line. */
  removedByRetention(removal: RetentionRemoval): void {
    if (this.#removals.length < MAX_LISTED) this.#removals.push(removal)
  }

  /** Once every line is read: what the report says of the ends, and the findings they make. */
  finish(r: VerifyReport): Finding[] {
    const findings: Finding[] = []
    if (this.#removals.length > 0) r.removedByRetention = this.#removals
    const missing = this.#missingHead
    if (missing !== undefined) {
      const removal = this.#removals.find((m) => m.lastMac === missing.mac && m.lastSeq === missing.seq)
      if (removal !== undefined) r.headRemovedByRetention = removal
      else if (this.#headRemovedElsewhere) r.headRemovedElsewhere = { file: missing.file, seq: missing.seq }
      else
        findings.push({
          file: missing.file,
          line: missing.line,
          kind: 'removed',
          message:
            `the chain's first files are missing: this chain continues from seq ${missing.seq} of a file not given, and no audit-retention event in these files accounts for it ` +
            '(give the older files too, and the newest file, where the gateway records the files its retention removed; --head-removed if they were removed by something else, e.g. logrotate)',
        })
    }
    if (this.expect !== undefined && r.expectedHeadAt === undefined) {
      const lastFile = r.files[r.files.length - 1] ?? ''
      findings.push({
        file: lastFile,
        line: r.head?.line ?? 0,
        kind: 'truncated',
        message:
          `the expected chain head ${this.expect.seq}:${this.expect.mac} is not in these files: lines were cut from the end, or the files were replaced by another chain` +
          (r.head !== undefined ? ` (their last line is seq ${r.head.seq}, ${r.head.file}:${r.head.line})` : ''),
      })
    }
    return findings
  }
}
