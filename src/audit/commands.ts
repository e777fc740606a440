// The `psc-gateway audit ...` subcommands, for cli.ts: verify and query. Returns the exit code.
import { readFileSync } from 'node:fs'
import { queryAuditFiles, parseInstant, type QueryFilters, type QueryFormat } from './query.js'
import { formatVerifyReport, verifyAuditFiles } from './verify.js'

export const AUDIT_USAGE = `  audit verify FILE... [--key-env NAME] [--key-file F]
                           check the hash chain of audit files (oldest first); exit 1 on a break.
                           The key: the variable NAME (default AUDIT_HMAC_KEY) or the file F
  audit query FILE... [--idnat X] [--route R] [--decision D] [--event E] [--since T] [--until T] [--format table|json|csv]
                           search audit files (filters ANDed; T: ISO 8601 date/time or an age like 2h, 7d;
                           D: allow, deny, login, reject, or a login outcome / logout cause)
`

export interface AuditCommandOptions {
  'key-env'?: string | undefined
  'key-file'?: string | undefined
  idnat?: string | undefined
  route?: string | undefined
  decision?: string | undefined
  event?: string | undefined
  since?: string | undefined
  until?: string | undefined
  format?: string | undefined
}

export class AuditUsageError extends Error {}

export async function runAuditCommand (args: string[], options: AuditCommandOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [sub, ...files] = args
  if (sub !== 'verify' && sub !== 'query') throw new AuditUsageError(sub === undefined ? 'audit needs a subcommand: verify or query' : `unknown audit subcommand "${sub}"`)
  if (files.length === 0) throw new AuditUsageError(`audit ${sub} needs at least one FILE`)
  if (sub === 'verify') {
    const report = await verifyAuditFiles(files, readKey(options, env))
    process.stdout.write(formatVerifyReport(report))
    return report.ok ? 0 : 1
  }
  const format = (options.format ?? 'table') as QueryFormat
  if (!['table', 'json', 'csv'].includes(format)) throw new AuditUsageError(`--format: expected table, json or csv, got ${JSON.stringify(options.format)}`)
  const filters: QueryFilters = {}
  try {
    if (options.since !== undefined) filters.since = parseInstant(options.since)
    if (options.until !== undefined) filters.until = parseInstant(options.until)
  } catch (err) {
    throw new AuditUsageError(`--since/--until: ${(err as Error).message}`)
  }
  if (options.idnat !== undefined) filters.idNat = options.idnat
  if (options.route !== undefined) filters.route = options.route
  if (options.decision !== undefined) filters.decision = options.decision
  if (options.event !== undefined) filters.event = options.event
  const { matched, scanned } = await queryAuditFiles(files, filters, format, process.stdout)
  if (format === 'table') process.stderr.write(`${matched} event(s) of ${scanned} line(s)\n`)
  return 0
}

/** The chain key; never printed. */
function readKey (options: AuditCommandOptions, env: NodeJS.ProcessEnv): Buffer {
  if (options['key-file'] !== undefined) {
    let text: string
    try {
      text = readFileSync(options['key-file'], 'utf8')
    } catch (err) {
      throw new AuditUsageError(`--key-file: cannot read ${options['key-file']}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
    // A file written by `echo` ends in a newline the key never had (as ${file:...} in the config).
    return Buffer.from(text.endsWith('\n') ? text.slice(0, text.endsWith('\r\n') ? -2 : -1) : text)
  }
  const name = options['key-env'] ?? 'AUDIT_HMAC_KEY'
  const value = env[name]
  if (value === undefined || value === '') throw new AuditUsageError(`the chain key is needed: set ${name} (or give --key-env NAME or --key-file F)`)
  return Buffer.from(value)
}
