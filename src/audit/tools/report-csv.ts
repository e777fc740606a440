// The report as CSV for Excel in French: one file per section in a folder (each opens as one clean
// table), plus chaine.csv with the chain's verdict; ";" separator, UTF-8 with a BOM (else Excel
// reads the accents as Windows-1252), CRLF line ends.
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ReportSection } from './report-sections.js'
import type { ReportWords } from './report-text.js'
import type { VerifyReport } from './verify-report.js'

const BOM = '\uFEFF'

/** One cell: quoted when needed; text Excel would run as a formula (=, +, -, @) made inert with a leading '. */
export function csvCellFr(v: string | number): string {
  if (typeof v === 'number') return String(v)
  const text = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v
  return /[;"\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

export function csvText(columns: string[], rows: (string | number)[][]): string {
  const lines = [columns, ...rows].map((r) => r.map(csvCellFr).join(';'))
  return `${BOM}${lines.join('\r\n')}\r\n`
}

/** Writes the folder; returns the files written, chaine.csv first. */
export async function writeReportCsv(
  dir: string,
  sections: ReportSection[],
  verify: VerifyReport,
  w: ReportWords,
): Promise<string[]> {
  await mkdir(dir, { recursive: true })
  const first = verify.findings[0]
  const chainRows: (string | number)[][] = [
    [
      verify.ok
        ? w.chainOk(verify.lines, verify.files.length)
        : w.chainBroken(`${first!.file}:${first!.line}`, first!.kind),
    ],
  ]
  if (verify.gaps.length > 0) chainRows.push([w.gaps(verify.lost, verify.gaps.length)])
  for (const f of verify.findings.slice(0, 1000)) chainRows.push([`${f.file}:${f.line}: ${f.kind}: ${f.message}`])
  const written = [join(dir, 'chaine.csv')]
  await writeFile(written[0]!, csvText([w.findings], chainRows))
  for (const s of sections) {
    const file = join(dir, `${s.id}.csv`)
    await writeFile(file, csvText(s.columns, s.rows))
    written.push(file)
  }
  return written
}
