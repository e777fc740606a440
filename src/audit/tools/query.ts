// `psc-gateway audit query FILE...`: the everyday questions ("what did this practitioner open
// yesterday?", "every refusal on the pharmacy route"), streaming line by line (constant memory,
// millions of lines), filters ANDed, output as a readable table (default), the JSON lines as they
// are, or CSV. Lines that are not audit events (an operational log on the same stdout) and the
// chain-start markers are left out unless asked for with --event chain-start.
import type { Writable } from 'node:stream'
import { runBlocks } from './block-pipeline.js'
import { parseDuration } from '../../config/duration.js'
import { orderAuditFiles } from './file-order.js'
import { headerOf, type QueryFilters, type QueryFormat } from './query-rows.js'
import type { ChainVerifier } from './verify.js'
import type { VerifyReport } from './verify-report.js'

export { csvCell, statusMatcher, type QueryFilters, type QueryFormat } from './query-rows.js'

/** An instant from an ISO date/time ("2025-03-01", "2025-03-01T08:00:00Z") or an age ("2h": two hours ago). */
export function parseInstant(text: string, now: number = Date.now()): string {
  const age = parseDuration(text)
  if (age !== undefined) return new Date(now - age).toISOString()
  const t = Date.parse(text)
  if (Number.isNaN(t))
    throw new Error(
      `expected an ISO 8601 date or time (2025-03-01, 2025-03-01T08:00:00Z) or an age (30m, 2h, 7d), got ${JSON.stringify(text)}`,
    )
  return new Date(t).toISOString()
}

export interface QueryOptions {
  /** verify the chain on the same pass (query --verify) */
  verifier?: ChainVerifier
  keepOrder?: boolean
  /** worker threads for the per-line work; 0: none; default: by the files' size and the cores */
  threads?: number | undefined
}

export async function queryAuditFiles(
  files: string[],
  filters: QueryFilters,
  format: QueryFormat,
  out: Writable,
  options: QueryOptions = {},
): Promise<{ matched: number; scanned: number; verify?: VerifyReport }> {
  let matched = 0
  let scanned = 0
  let buffer = headerOf(format)
  const flush = async () => {
    if (buffer === '') return
    const ok = out.write(buffer)
    buffer = ''
    if (!ok) await new Promise<void>((resolve) => out.once('drain', resolve))
  }
  const verifier = options.verifier
  const ordered = options.keepOrder === true ? files : await orderAuditFiles(files)
  await runBlocks(
    ordered,
    { rows: { filters, format }, chain: verifier?.task },
    {
      beginFile: (file) => verifier?.beginFile(file),
      block: (file, block, result) => {
        scanned += result.lines
        verifier?.block(file, block, result.check!)
        matched += result.rows!.matched
        buffer += result.rows!.text
        if (buffer.length > 65536) return flush()
      },
      endFile: (file, read) => verifier?.endFile(file, read.endsWithNewline),
    },
    { threads: options.threads },
  )
  await flush()
  return verifier === undefined ? { matched, scanned } : { matched, scanned, verify: verifier.finish() }
}
