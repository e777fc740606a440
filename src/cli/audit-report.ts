// `psc-gateway audit report`: its options checked (a mistake is a UsageProblem, exit 2), the report
// run over the files (audit/tools/report.ts) and written as HTML or as a folder of CSV files.
import { writeFile } from 'node:fs/promises'
import { DEFAULT_WORKING_HOURS, parseWorkingHours, type WorkingHours } from '../audit/tools/report-aggregate.js'
import { writeReportCsv } from '../audit/tools/report-csv.js'
import { renderReportHtml } from '../audit/tools/report-html.js'
import { reportSections } from '../audit/tools/report-sections.js'
import { reportWords, type ReportLang } from '../audit/tools/report-text.js'
import { reportAuditFiles, trailFiles } from '../audit/tools/report.js'
import { UsageProblem } from '../audit/tools/verify.js'
import { formatVerifyReport, verifyExitCode } from '../audit/tools/verify-report.js'

export interface AuditReportOptions {
  from?: string | undefined
  to?: string | undefined
  format?: string | undefined
  out?: string | undefined
  lang?: string | undefined
  'working-hours'?: string | undefined
  'time-zone'?: string | undefined
  'weekends-worked'?: boolean | undefined
  'expect-head'?: string | undefined
  'keep-order'?: boolean | undefined
}

const isDay = (s: string | undefined): s is string =>
  s !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`))

export async function runAuditReport(paths: string[], options: AuditReportOptions, keys: Buffer[]): Promise<number> {
  if (!isDay(options.from) || !isDay(options.to))
    throw new UsageProblem(
      `--from and --to: expected days as YYYY-MM-DD (e.g. --from 2026-11-01 --to 2026-11-30), got ${JSON.stringify(options.from)} and ${JSON.stringify(options.to)}`,
    )
  if (options.from > options.to) throw new UsageProblem(`--from ${options.from} is after --to ${options.to}`)
  const format = options.format ?? 'html'
  if (format !== 'html' && format !== 'csv')
    throw new UsageProblem(`--format: expected html or csv for audit report, got ${JSON.stringify(format)}`)
  if (format === 'csv' && options.out === undefined)
    throw new UsageProblem('--format csv writes one file per section: give the folder with --out DIR')
  const lang = (options.lang ?? 'fr') as ReportLang
  if (lang !== 'fr' && lang !== 'en') throw new UsageProblem(`--lang: expected fr or en, got ${JSON.stringify(lang)}`)
  const hours: WorkingHours = { ...DEFAULT_WORKING_HOURS, weekends: options['weekends-worked'] !== true }
  try {
    if (options['working-hours'] !== undefined) Object.assign(hours, parseWorkingHours(options['working-hours']))
  } catch (err) {
    throw new UsageProblem(`--working-hours: ${(err as Error).message}`)
  }
  if (options['time-zone'] !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: options['time-zone'] })
    } catch {
      throw new UsageProblem(
        `--time-zone: unknown time zone ${JSON.stringify(options['time-zone'])} (e.g. Europe/Paris, America/Cayenne)`,
      )
    }
    hours.timeZone = options['time-zone']
  }
  const files = await trailFiles(paths)
  if (files.length === 0) throw new UsageProblem(`no audit file (*.log, *.log.N, *.log.N.gz) in ${paths.join(' ')}`)
  const { figures, verify } = await reportAuditFiles(files, keys, { from: options.from, to: options.to }, hours, {
    expectHead: options['expect-head'],
    keepOrder: options['keep-order'],
  })
  const words = reportWords(lang)
  const sections = reportSections(figures, words)
  if (format === 'csv') {
    const written = await writeReportCsv(options.out!, sections, verify, words)
    process.stderr.write(`${written.length} CSV file(s) written in ${options.out}\n`)
  } else {
    const html = renderReportHtml(figures, verify, sections, words, lang, new Date().toISOString())
    if (options.out === undefined) process.stdout.write(html)
    else await writeFile(options.out, html)
  }
  // The verdict also on stderr: a broken chain must not go unnoticed by whoever ran the command.
  process.stderr.write(formatVerifyReport(verify))
  return verifyExitCode(verify)
}
