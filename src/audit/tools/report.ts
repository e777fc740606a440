// `psc-gateway audit report`: the security team's report over a period, from the chained trail.
// One streaming pass: the chain is verified (verify.ts's ChainVerifier, its HMACs on worker threads
// for big trails) while each line is counted (report-aggregate.ts), so a month of trail is never
// held in memory; the verdict is known before anything is rendered and heads the report.
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { runBlocks } from './block-pipeline.js'
import { orderAuditFiles } from './file-order.js'
import { forEachLine } from './line-blocks.js'
import { ReportAggregator, type ReportFigures, type ReportWindow, type WorkingHours } from './report-aggregate.js'
import { ChainVerifier } from './verify.js'
import type { VerifyReport } from './verify-report.js'

export interface ReportRun {
  figures: ReportFigures
  verify: VerifyReport
}

export interface ReportOptions {
  keepOrder?: boolean | undefined
  expectHead?: string | undefined
  threads?: number | undefined
}

/** The audit files named, a directory standing for the trail files in it (audit.log, audit.log.1, .gz). */
export async function trailFiles(paths: string[]): Promise<string[]> {
  const files: string[] = []
  for (const p of paths) {
    if (!(await stat(p)).isDirectory()) {
      files.push(p)
      continue
    }
    const names = (await readdir(p)).filter((n) => /\.log(\.\d+)?(\.gz)?$/.test(n)).sort()
    for (const n of names) if ((await stat(join(p, n))).isFile()) files.push(join(p, n))
  }
  return files
}

export async function reportAuditFiles(
  files: string[],
  keys: Buffer[],
  window: ReportWindow,
  hours: WorkingHours,
  options: ReportOptions = {},
): Promise<ReportRun> {
  const verifier = new ChainVerifier(keys, { expectHead: options.expectHead })
  const aggregator = new ReportAggregator(window, hours)
  const addLine = (text: string) => aggregator.addLine(text)
  const ordered = options.keepOrder === true ? files : await orderAuditFiles(files)
  await runBlocks(
    ordered,
    { chain: verifier.task },
    {
      beginFile: (file) => verifier.beginFile(file),
      block: (file, block, result) => {
        verifier.block(file, block, result.check!)
        forEachLine(block, addLine)
      },
      endFile: (file, read) => verifier.endFile(file, read.endsWithNewline),
    },
    { threads: options.threads },
  )
  return { figures: aggregator.figures, verify: verifier.finish() }
}
