// Verifies the lines of audit files fed one at a time, for audit verify and for query --verify and
// report on the same pass: each line's mac, and its place in the chain (seq and prev); the findings
// and what the trail says it could not hold (gaps, key changes) go to the report (verify.ts tells
// the kinds of findings).
import type { BlockTask } from './block-task.js'
import { ChainEnds } from './chain-ends.js'
import { firstLineOf, forEachLine } from './line-blocks.js'
import type { BlockCheck } from './block-check.js'
import { field, hasMacSuffix, KeyRing, linksTo, parseChained, Verdict } from './line-check.js'
import type { Finding, VerifyReport } from './verify-report.js'

interface Position {
  file: string
  line: number
  seq: number
  mac: string
}

const MAX_FINDINGS = 1000
const MAX_LISTED = 1000
/** a gap remembered until the end of its chain, to tell a removal from a reordering */
interface Gap {
  file: string
  line: number
  from: number
  to: number
  found: Set<number>
}

/**
 * Verifies lines fed one at a time (verify, and query --verify on the same pass). Not thread-safe;
 * one per run.
 */
export class ChainVerifier {
  readonly report: VerifyReport
  #keys: KeyRing
  #last: Position | undefined
  /** report.lines when #last was last set: whether it is the line just checked */
  #lastSetAt = -1
  /** lines of the current file so far */
  #lineNo = 0
  #gaps: Gap[] = []
  /** the last access event: its time, and where it is */
  #lastAccess: { time: string; file: string; line: number } | undefined
  /** the head expected and the missing first files: checked at the end */
  #ends: ChainEnds

  constructor(keys: Buffer[], options: { expectHead?: string | undefined; headRemoved?: boolean | undefined } = {}) {
    this.#keys = new KeyRing(keys)
    this.#ends = new ChainEnds(options)
    this.report = {
      ok: true,
      findings: [],
      files: [],
      lines: 0,
      chains: 0,
      skipped: 0,
      gaps: [],
      lost: 0,
      keyChanges: [],
    }
  }

  #add(f: Finding): void {
    this.report.ok = false
    if (this.report.findings.length < MAX_FINDINGS) this.report.findings.push(f)
  }

  #closeGaps(): void {
    for (const g of this.#gaps) {
      const missing = g.to - g.from + 1 - g.found.size
      if (missing > 0) {
        this.#add({
          file: g.file,
          line: g.line,
          kind: 'removed',
          message: `${missing} line(s) removed before this line (seq ${g.from === g.to ? g.from : `${g.from}..${g.to}`} missing)`,
        })
      }
    }
    this.#gaps = []
  }

  /** What the threads checking the lines' macs need (block-task.ts). */
  get task(): NonNullable<BlockTask['chain']> {
    return { keys: [...this.#keys.byId.values()], expectSeq: this.#ends.expect?.seq }
  }

  #setLast(position: Position): void {
    this.#last = position
    this.#lastSetAt = this.report.lines
  }

  beginFile(file: string): void {
    this.report.files.push(file)
    this.#lineNo = 0
  }

  /**
   * A block of lines and what its thread found (block-check.ts): when its lines after the first
   * simply follow each other, only its first and last lines are looked at; otherwise each line is.
   */
  block(file: string, block: Buffer, check: BlockCheck): void {
    const run = check.run
    if (run !== undefined && check.lines > 1) {
      const firstLineNo = this.#lineNo + 1
      this.line(file, ++this.#lineNo, firstLineOf(block), check.verdicts[0] as Verdict)
      const lastAccess = this.#lastAccess
      if (
        this.#lastSetAt === this.report.lines &&
        (run.firstAccessTime === undefined || lastAccess === undefined || run.firstAccessTime >= lastAccess.time)
      ) {
        const report = this.report
        report.lines += run.lines
        this.#lineNo += run.lines
        report.firstTime ??= run.firstTime
        report.lastTime = run.lastTime
        report.head = { file, line: this.#lineNo, seq: run.lastSeq, mac: run.lastMac, time: run.lastTime }
        this.#setLast({ file, line: this.#lineNo, seq: run.lastSeq, mac: run.lastMac })
        // Where it is matters only when a later one goes back: then the block is read line by line.
        if (run.lastAccessTime !== undefined)
          this.#lastAccess = { time: run.lastAccessTime, file, line: firstLineNo + run.lastAccessIndex! }
        return
      }
      forEachLine(block, (text, index) => {
        if (index > 0) this.line(file, ++this.#lineNo, text, check.verdicts[index] as Verdict)
      })
      return
    }
    forEachLine(block, (text, index) => this.line(file, ++this.#lineNo, text, check.verdicts[index] as Verdict))
  }

  /** One line; `verdict`: its mac already checked by a thread (Verdict.None: check it here). */
  line(file: string, lineNo: number, text: string, verdict: Verdict = Verdict.None): void {
    const report = this.report
    report.lines++
    this.#lineNo = lineNo
    const at = { file, line: lineNo }
    if (!hasMacSuffix(text)) {
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch {
        /* not JSON */
      }
      const log = (parsed as { log?: unknown } | undefined)?.log
      if (typeof parsed === 'object' && parsed !== null && log !== undefined && log !== 'audit') {
        report.skipped++
        return
      }
      const cut = text.startsWith('{"log":"audit"')
      this.#add({
        ...at,
        kind: cut ? 'truncated' : 'malformed',
        message: cut ? 'an audit line without its mac (cut short, or its mac removed)' : 'not an audit line',
      })
      return
    }
    const line = parseChained(text)
    if (line === undefined) {
      this.#add({ ...at, kind: 'malformed', message: 'not an audit line of a chained file' })
      return
    }
    const { seq, kid, mac, macAt } = line
    const signedText = text.slice(0, macAt)
    if (verdict === Verdict.None) verdict = this.#keys.verdict(text, line)
    if (verdict === Verdict.UnknownKey) {
      this.#add({
        ...at,
        kind: 'unknown-key',
        message: `signed with key id ${kid}, which none of the given keys has (give that key too: --key-env/--key-file may be repeated)`,
      })
      this.#setLast({ file, line: lineNo, seq, mac })
      return
    }
    if (verdict !== Verdict.Authentic) {
      this.#add({
        ...at,
        kind: 'edited',
        message: 'the line does not match its mac: edited, or forged without the key (or verified with the wrong key)',
      })
      // Its neighbours are still checked against the mac it carries.
      this.#setLast({ file, line: lineNo, seq, mac })
      return
    }
    const time = field(text, '"time":"', line.fieldsAt)
    if (time !== undefined) {
      report.firstTime ??= time
      report.lastTime = time
    }
    report.head = { file, line: lineNo, seq, mac, time }
    const expect = this.#ends.expect
    if (expect !== undefined && expect.seq === seq && expect.mac === mac) report.expectedHeadAt = report.head
    const event = field(text, '"event":"', line.fieldsAt)
    if (event === 'chain-start') {
      this.#closeGaps()
      report.chains++
      let start: { previous?: { seq: number; mac: string; kid?: string } | null; reason?: string } = {}
      try {
        start = JSON.parse(`${signedText}}`) as typeof start
      } catch {
        /* authentic lines are JSON */
      }
      const previous = start.previous ?? null
      const last = this.#last
      if (previous !== null && last === undefined)
        this.#ends.headMissing({ file, line: lineNo, seq: previous.seq, mac: previous.mac })
      if (previous !== null && last !== undefined && previous.mac !== last.mac) {
        this.#add({
          ...at,
          kind: 'removed',
          message:
            `this chain continues from seq ${previous.seq} of the previous chain, but the line before it (${last.file}:${last.line}) is seq ${last.seq}: ` +
            'lines were removed (or edited) at the end of the previous chain',
        })
      }
      if (start.reason === 'key-change' && report.keyChanges.length < MAX_LISTED)
        report.keyChanges.push({ file, line: lineNo, from: previous?.kid, to: kid })
      this.#setLast({ file, line: lineNo, seq: 0, mac })
      return
    }
    if (event === 'gap') {
      try {
        const g = JSON.parse(`${signedText}}`) as { lost: number; from: string; to: string; reason: string }
        report.lost += g.lost
        if (report.gaps.length < MAX_LISTED)
          report.gaps.push({ file, line: lineNo, lost: g.lost, from: g.from, to: g.to, reason: g.reason })
      } catch {
        /* authentic lines are JSON */
      }
    }
    if (event === 'audit-retention') {
      try {
        const r = JSON.parse(`${signedText}}`) as { file: string; lines: number; lastSeq?: number; lastMac?: string }
        this.#ends.removedByRetention({
          file,
          line: lineNo,
          removed: r.file,
          lines: r.lines,
          lastSeq: r.lastSeq,
          lastMac: r.lastMac,
        })
      } catch {
        /* authentic lines are JSON */
      }
    }
    const last = this.#last
    if (last === undefined) {
      this.#add({
        ...at,
        kind: 'removed',
        message: `the chain's first lines are missing: this line is seq ${seq}, and no chain-start comes before it`,
      })
      this.#setLast({ file, line: lineNo, seq, mac })
      return
    }
    const expected = last.seq + 1
    // prev is the last field before mac: `"prev":"<43 characters>"`
    if (seq === expected && linksTo(text, line, last.mac)) {
      if (event === 'access') this.#checkTime(file, lineNo, time)
      this.#setLast({ file, line: lineNo, seq, mac })
      return
    }
    if (seq > expected) {
      if (event === 'access') this.#checkTime(file, lineNo, time)
      // Removed, unless the missing lines show up later (then they were moved: reordered).
      if (this.#gaps.length < MAX_FINDINGS)
        this.#gaps.push({ file, line: lineNo, from: expected, to: seq - 1, found: new Set() })
      this.#setLast({ file, line: lineNo, seq, mac })
      return
    }
    if (seq < expected) {
      const gap = this.#gaps.find((g) => seq >= g.from && seq <= g.to)
      if (gap !== undefined && !gap.found.has(seq)) {
        gap.found.add(seq)
        this.#add({
          ...at,
          kind: 'reordered',
          message: `seq ${seq} comes after seq ${last.seq}: it belongs before ${gap.file}:${gap.line} (lines swapped or moved)`,
        })
      } else {
        this.#add({
          ...at,
          kind: 'reordered',
          message: `seq ${seq} comes after seq ${last.seq}: a line repeated or moved`,
        })
      }
      return
    }
    // Right seq, wrong link: a line of another chain with the same seq was put here.
    this.#add({
      ...at,
      kind: 'reordered',
      message: `the line does not follow the line before it (${last.file}:${last.line}): it comes from another chain`,
    })
    this.#setLast({ file, line: lineNo, seq, mac })
  }

  /**
   * An access event in its place in the chain (a line moved is reported as reordered, not here):
   * its time must not be earlier than the access event's before it.
   */
  #checkTime(file: string, lineNo: number, time: string | undefined): void {
    if (time === undefined) return
    const before = this.#lastAccess
    if (before !== undefined && time < before.time) {
      this.#add({
        file,
        line: lineNo,
        kind: 'time-backwards',
        message:
          `time goes back: this access event is at ${time}, the one before it (${before.file}:${before.line}) at ${before.time}; ` +
          "access events are written in the order their responses end, so the host's clock was set back (or lines were forged with the key): times around here cannot be trusted",
      })
    }
    this.#lastAccess = { time, file, line: lineNo }
  }

  endFile(file: string, endsWithNewline: boolean): void {
    const lines = this.#lineNo
    if (lines > 0 && !endsWithNewline)
      this.#add({ file, line: lines, kind: 'truncated', message: 'the file ends in the middle of a line' })
  }

  finish(): VerifyReport {
    this.#closeGaps()
    const r = this.report
    for (const finding of this.#ends.finish(r)) this.#add(finding)
    const order = r.files
    r.findings.sort((a, b) => (a.file === b.file ? a.line - b.line : order.indexOf(a.file) - order.indexOf(b.file)))
    return r
  }
}
