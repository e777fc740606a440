// `psc-gateway audit verify FILE...`: checks the hash chain of audit files (chain.ts), streaming,
// in constant memory. Files are given oldest first (audit.log.2 audit.log.1 audit.log): a chain
// that continues in the next file is checked across the boundary. Each finding names the file, the
// line and what happened:
//   edited     the line's text does not match its mac (changed, or forged without the key)
//   removed    lines are missing (the next line's seq jumps, or a chain-start names a last line
//              that is not the one before it)
//   reordered  a line appears after a later one (swapped or moved)
//   truncated  a partial last line, or a file cut in the middle of a line
//   malformed  not an audit line at all
// Limit: the last lines of the newest file can be removed without trace (nothing comes after them);
// ship the file off the host (syslog, SIEM) to close that gap.
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { macMatches, splitMac } from './chain.js'

export type FindingKind = 'edited' | 'removed' | 'reordered' | 'truncated' | 'malformed'

export interface Finding {
  file: string
  line: number
  kind: FindingKind
  message: string
}

export interface VerifyReport {
  ok: boolean
  findings: Finding[]
  files: number
  lines: number
  /** chain-start lines seen */
  chains: number
  /** JSON lines of other logs (e.g. "log":"app" on a shared stdout), not part of the chain */
  skipped: number
  firstTime?: string
  lastTime?: string
}

interface Position {
  file: string
  line: number
  seq: number
  mac: string
}

const MAX_FINDINGS = 1000
/** a gap remembered until the end of its chain, to tell a removal from a reordering */
interface Gap { file: string; line: number; from: number; to: number; found: Set<number> }

export async function verifyAuditFiles (files: string[], key: Buffer): Promise<VerifyReport> {
  const report: VerifyReport = { ok: true, findings: [], files: files.length, lines: 0, chains: 0, skipped: 0 }
  const add = (f: Finding) => {
    report.ok = false
    if (report.findings.length < MAX_FINDINGS) report.findings.push(f)
  }
  let last: Position | undefined
  let gaps: Gap[] = []
  const closeGaps = () => {
    for (const g of gaps) {
      const missing = g.to - g.from + 1 - g.found.size
      if (missing > 0) {
        add({ file: g.file, line: g.line, kind: 'removed', message: `${missing} line(s) removed before this line (seq ${g.from === g.to ? g.from : `${g.from}..${g.to}`} missing)` })
      }
    }
    gaps = []
  }

  for (const file of files) {
    let lineNo = 0
    const input = createReadStream(file, { encoding: 'utf8' })
    const lines = createInterface({ input, crlfDelay: Infinity })
    for await (const text of lines) {
      lineNo++
      report.lines++
      const at = { file, line: lineNo }
      const split = splitMac(text)
      if (split === undefined) {
        let parsed: unknown
        try { parsed = JSON.parse(text) } catch { /* not JSON */ }
        const log = (parsed as { log?: unknown } | undefined)?.log
        if (typeof parsed === 'object' && parsed !== null && log !== undefined && log !== 'audit') {
          report.skipped++
          continue
        }
        add({ ...at, kind: text.startsWith('{"log":"audit"') ? 'truncated' : 'malformed', message: text.startsWith('{"log":"audit"') ? 'an audit line without its mac (cut short, or its mac removed)' : 'not an audit line' })
        continue
      }
      let fields: { seq?: unknown; prev?: unknown; event?: unknown; time?: unknown; previous?: { seq: number; mac: string } | null }
      try {
        fields = JSON.parse(split.body) as typeof fields
      } catch {
        add({ ...at, kind: 'malformed', message: 'not valid JSON' })
        continue
      }
      const seq = typeof fields.seq === 'number' ? fields.seq : -1
      if (!macMatches(key, split.body, split.mac)) {
        add({ ...at, kind: 'edited', message: 'the line does not match its mac: edited, or forged without the key (or verified with the wrong key)' })
        // Its neighbours are still checked against the mac it carries.
        last = { file, line: lineNo, seq, mac: split.mac }
        continue
      }
      if (typeof fields.time === 'string') {
        report.firstTime ??= fields.time
        report.lastTime = fields.time
      }
      if (fields.event === 'chain-start') {
        closeGaps()
        report.chains++
        const previous = fields.previous ?? null
        if (previous !== null && last !== undefined && previous.mac !== last.mac) {
          add({
            ...at, kind: 'removed',
            message: `this chain continues from seq ${previous.seq} of the previous chain, but the line before it (${last.file}:${last.line}) is seq ${last.seq}: ` +
              'lines were removed (or edited) at the end of the previous chain'
          })
        }
        last = { file, line: lineNo, seq: 0, mac: split.mac }
        continue
      }
      if (last === undefined) {
        add({ ...at, kind: 'removed', message: `the chain's first lines are missing: this line is seq ${seq}, and no chain-start comes before it` })
        last = { file, line: lineNo, seq, mac: split.mac }
        continue
      }
      const expected = last.seq + 1
      if (seq === expected && fields.prev === last.mac) {
        last = { file, line: lineNo, seq, mac: split.mac }
        continue
      }
      if (seq > expected) {
        // Removed, unless the missing lines show up later (then they were moved: reordered).
        if (gaps.length < MAX_FINDINGS) gaps.push({ file, line: lineNo, from: expected, to: seq - 1, found: new Set() })
        last = { file, line: lineNo, seq, mac: split.mac }
        continue
      }
      if (seq < expected) {
        const gap = gaps.find((g) => seq >= g.from && seq <= g.to)
        if (gap !== undefined && !gap.found.has(seq)) {
          gap.found.add(seq)
          add({ ...at, kind: 'reordered', message: `seq ${seq} comes after seq ${last.seq}: it belongs before ${gap.file}:${gap.line} (lines swapped or moved)` })
        } else {
          add({ ...at, kind: 'reordered', message: `seq ${seq} comes after seq ${last.seq}: a line repeated or moved` })
        }
        continue
      }
      // Right seq, wrong link: a line of another chain with the same seq was put here.
      add({ ...at, kind: 'reordered', message: `the line does not follow the line before it (${last.file}:${last.line}): it comes from another chain` })
      last = { file, line: lineNo, seq, mac: split.mac }
    }
    if (lineNo > 0 && !(await endsWithNewline(file))) {
      add({ file, line: lineNo, kind: 'truncated', message: 'the file ends in the middle of a line' })
    }
  }
  closeGaps()
  report.findings.sort((a, b) => (a.file === b.file ? a.line - b.line : files.indexOf(a.file) - files.indexOf(b.file)))
  return report
}

async function endsWithNewline (file: string): Promise<boolean> {
  const fh = await open(file, 'r')
  try {
    const { size } = await fh.stat()
    if (size === 0) return true
    const buf = Buffer.alloc(1)
    await fh.read(buf, 0, 1, size - 1)
    return buf[0] === 10
  } finally {
    await fh.close()
  }
}

export function formatVerifyReport (r: VerifyReport): string {
  if (r.ok) {
    return `OK: ${r.files} file(s), ${r.lines} line(s), ${r.chains} chain start(s), intact` +
      (r.firstTime !== undefined ? `; from ${r.firstTime} to ${r.lastTime}` : '') +
      (r.skipped > 0 ? `; ${r.skipped} line(s) of other logs skipped` : '') + '\n' +
      'Note: lines removed from the very end of the newest file cannot be detected by the chain.\n'
  }
  const head = r.findings[0]!
  const lines = r.findings.map((f) => `${f.file}:${f.line}: ${f.kind}: ${f.message}`)
  return `BROKEN: the chain breaks first at ${head.file}:${head.line} (${head.kind})\n${lines.join('\n')}\n` +
    `${r.findings.length} finding(s) in ${r.files} file(s), ${r.lines} line(s)\n`
}
