// The `psc-gateway audit` command and its subcommands, verify and query: options, usage errors and
// the exit code. The reading and checking of audit files is audit/tools/'s.
import { readFileSync } from 'node:fs'
import { FileOrderError } from '../audit/tools/file-order.js'
import {
  queryAuditFiles,
  parseInstant,
  statusMatcher,
  type QueryFilters,
  type QueryFormat,
} from '../audit/tools/query.js'
import type { Command } from './command.js'
import { runAuditReport } from './audit-report.js'
import { ChainVerifier, parseHead, UsageProblem, verifyAuditFiles } from '../audit/tools/verify.js'
import { formatVerifyReport, verifyExitCode } from '../audit/tools/verify-report.js'

export const AUDIT_USAGE = `  audit verify FILE... [--key-env NAME]... [--key-file F]... [--expect-head SEQ:MAC] [--keep-order] [--head-removed]
                           check the hash chain of audit files (any order; .gz read as is).
                           Keys: the variables NAME (default AUDIT_HMAC_KEY) and/or the files F, each
                           option repeatable (a line names its key by key id). --expect-head: the last
                           chain head sent off the host; refuses files cut short or replaced.
                           The oldest files may be missing only if the gateway's retention removed them
                           (its audit-retention events say so); --head-removed: removed by something else.
                           Exit 0 intact, 1 broken, 3 intact but the gateway recorded lost events (gaps)
  audit query FILE... [--idnat X] [--route R] [--decision D] [--event E] [--client IP] [--session REF]
                      [--path-prefix P] [--status S] [--since T] [--until T] [--format table|json|csv]
                      [--verify [--key-env NAME]... [--key-file F]... [--expect-head SEQ:MAC]]
                           search audit files (filters ANDed; T: ISO 8601 date/time or an age like 2h, 7d;
                           D: allow, deny, login, reject, or a login outcome / logout cause; S: 403 or 4xx;
                           --verify: check the chain on the same pass, exit 1 when broken)
  audit report FILE|DIR... --from DAY --to DAY [--format html|csv] [--out PATH] [--lang fr|en]
                      [--working-hours 07:00-20:00] [--time-zone Europe/Paris] [--weekends-worked]
                      [--key-env NAME]... [--key-file F]... [--expect-head SEQ:MAC]
                           the security team's report over the days DAY..DAY (YYYY-MM-DD, inclusive):
                           one HTML page (default; --out FILE, else stdout) or a folder of CSV files
                           (--out DIR). The chain is verified on the same pass and the verdict heads
                           the report. Exit 0 intact, 1 broken (report still written), 3 gaps
`

export interface AuditCommandOptions {
  'key-env'?: string[] | string | undefined
  'key-file'?: string[] | string | undefined
  'expect-head'?: string | undefined
  'keep-order'?: boolean | undefined
  'head-removed'?: boolean | undefined
  verify?: boolean | undefined
  idnat?: string | undefined
  route?: string | undefined
  decision?: string | undefined
  event?: string | undefined
  client?: string | undefined
  session?: string | undefined
  'path-prefix'?: string | undefined
  status?: string | undefined
  since?: string | undefined
  until?: string | undefined
  format?: string | undefined
  from?: string | undefined
  to?: string | undefined
  out?: string | undefined
  lang?: string | undefined
  'working-hours'?: string | undefined
  'time-zone'?: string | undefined
  'weekends-worked'?: boolean | undefined
}

export class AuditUsageError extends Error {}

export const auditCommand: Command = {
  name: 'audit',
  summary: 'Verify or search audit files, or report on them.',
  usage: 'verify|query|report FILE... [options]',
  details: AUDIT_USAGE.replace(/^ {2}/gm, ''),
  positionals: true,
  options: {
    'key-env': {
      type: 'string',
      multiple: true,
      value: 'NAME',
      description: 'verify: a variable that holds an HMAC key (default AUDIT_HMAC_KEY; repeat for several keys)',
    },
    'key-file': {
      type: 'string',
      multiple: true,
      value: 'F',
      description: 'verify: a file that holds an HMAC key (repeat for several keys)',
    },
    'expect-head': {
      type: 'string',
      value: 'SEQ:MAC',
      description: 'verify: the chain head last seen elsewhere (syslog, log): proves nothing was cut or replaced',
    },
    'keep-order': { type: 'boolean', description: 'verify: check the files in the order given instead of chain order' },
    'head-removed': {
      type: 'boolean',
      description:
        "verify: the oldest files were removed by something other than the gateway's retention (logrotate's rotate N): accept a chain that starts after a file not given",
    },
    client: { type: 'string', value: 'ADDR', description: 'query: this client address' },
    session: { type: 'string', value: 'REF', description: 'query: this session reference' },
    'path-prefix': { type: 'string', value: 'P', description: 'query: paths under P (whole segments)' },
    status: { type: 'string', value: 'S', description: 'query: this status, or a class like 4xx' },
    verify: { type: 'boolean', description: 'query: check the chain while querying' },
    idnat: { type: 'string', value: 'X', description: 'query: this practitioner' },
    route: { type: 'string', value: 'R', description: 'query: this route' },
    decision: {
      type: 'string',
      value: 'D',
      description: 'query: allow, deny, login, reject, or a login outcome / logout cause',
    },
    event: { type: 'string', value: 'E', description: 'query: this event type' },
    since: { type: 'string', value: 'T', description: 'query: from T (ISO 8601, or an age like 2h, 7d)' },
    until: { type: 'string', value: 'T', description: 'query: until T' },
    format: {
      type: 'string',
      value: 'F',
      description: 'query: table (default), json or csv; report: html (default) or csv',
    },
    from: { type: 'string', value: 'DAY', description: 'report: first day (YYYY-MM-DD, local time)' },
    to: { type: 'string', value: 'DAY', description: 'report: last day, included' },
    out: { type: 'string', value: 'PATH', description: 'report: the HTML file, or the CSV folder' },
    lang: { type: 'string', value: 'L', description: 'report: fr (default) or en' },
    'working-hours': {
      type: 'string',
      value: 'HH:MM-HH:MM',
      description: 'report: working hours (default 07:00-20:00)',
    },
    'time-zone': {
      type: 'string',
      value: 'TZ',
      description: 'report: time zone of days and hours (default Europe/Paris)',
    },
    'weekends-worked': { type: 'boolean', description: 'report: Saturdays and Sundays are working days' },
  },
  async run({ values, positionals }) {
    return runAuditCommand(positionals, values as AuditCommandOptions)
  },
}

export async function runAuditCommand(
  args: string[],
  options: AuditCommandOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const [sub, ...files] = args
  if (sub !== 'verify' && sub !== 'query' && sub !== 'report')
    throw new AuditUsageError(
      sub === undefined ? 'audit needs a subcommand: verify, query or report' : `unknown audit subcommand "${sub}"`,
    )
  if (files.length === 0) throw new AuditUsageError(`audit ${sub} needs at least one FILE`)
  try {
    if (options['expect-head'] !== undefined) parseHead(options['expect-head'])
    if (sub === 'report') return await runAuditReport(files, options, readKeys(options, env))
    if (sub === 'verify') {
      const report = await verifyAuditFiles(files, readKeys(options, env), {
        expectHead: options['expect-head'],
        keepOrder: options['keep-order'],
        headRemoved: options['head-removed'],
      })
      process.stdout.write(formatVerifyReport(report))
      return verifyExitCode(report)
    }
    const format = (options.format ?? 'table') as QueryFormat
    if (!['table', 'json', 'csv'].includes(format))
      throw new AuditUsageError(`--format: expected table, json or csv, got ${JSON.stringify(options.format)}`)
    const filters: QueryFilters = {}
    try {
      if (options.since !== undefined) filters.since = parseInstant(options.since)
      if (options.until !== undefined) filters.until = parseInstant(options.until)
    } catch (err) {
      throw new AuditUsageError(`--since/--until: ${(err as Error).message}`)
    }
    if (options.status !== undefined) {
      try {
        statusMatcher(options.status)
      } catch (err) {
        throw new AuditUsageError(`--status: ${(err as Error).message}`)
      }
      filters.status = options.status
    }
    if (options['path-prefix'] !== undefined && !options['path-prefix'].startsWith('/'))
      throw new AuditUsageError(
        `--path-prefix: expected a path starting with "/", got ${JSON.stringify(options['path-prefix'])}`,
      )
    const copy = {
      idnat: 'idNat',
      route: 'route',
      decision: 'decision',
      event: 'event',
      client: 'client',
      session: 'session',
      'path-prefix': 'pathPrefix',
    } as const
    for (const [option, key] of Object.entries(copy) as [keyof typeof copy, (typeof copy)[keyof typeof copy]][]) {
      const v = options[option]
      if (v !== undefined) filters[key] = v
    }
    const verifier =
      options.verify === true
        ? new ChainVerifier(readKeys(options, env), {
            expectHead: options['expect-head'],
            headRemoved: options['head-removed'],
          })
        : undefined
    if (verifier === undefined && options['expect-head'] !== undefined)
      throw new AuditUsageError('--expect-head needs --verify with audit query')
    const { matched, scanned, verify } = await queryAuditFiles(files, filters, format, process.stdout, {
      verifier,
      keepOrder: options['keep-order'],
    })
    if (format === 'table') process.stderr.write(`${matched} event(s) of ${scanned} line(s)\n`)
    if (verify !== undefined) {
      // The rows went to stdout; the chain's verdict goes to stderr, not mixed with them.
      process.stderr.write(formatVerifyReport(verify))
      return verify.ok ? 0 : 1
    }
    return 0
  } catch (err) {
    if (err instanceof UsageProblem || err instanceof FileOrderError) throw new AuditUsageError(err.message)
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new AuditUsageError(`cannot read ${(err as NodeJS.ErrnoException).path ?? 'a file'}: no such file`)
    throw err
  }
}

const list = (v: string[] | string | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v])

/** The chain keys; never printed. */
function readKeys(options: AuditCommandOptions, env: NodeJS.ProcessEnv): Buffer[] {
  const keys: Buffer[] = []
  for (const f of list(options['key-file'])) {
    let text: string
    try {
      text = readFileSync(f, 'utf8')
    } catch (err) {
      throw new AuditUsageError(
        `--key-file: cannot read ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      )
    }
    // A file written by `echo` ends in a newline the key never had (as ${file:...} in the config).
    keys.push(Buffer.from(text.endsWith('\n') ? text.slice(0, text.endsWith('\r\n') ? -2 : -1) : text))
  }
  const names = list(options['key-env'])
  if (names.length === 0 && keys.length > 0) return keys
  for (const name of names.length === 0 ? ['AUDIT_HMAC_KEY'] : names) {
    const value = env[name]
    if (value === undefined || value === '')
      throw new AuditUsageError(`the chain key is needed: set ${name} (or give --key-env NAME or --key-file F)`)
    keys.push(Buffer.from(value))
  }
  return keys
}
