// `psc-gateway audit query FILE...`: the everyday questions ("what did this practitioner open
// yesterday?", "every refusal on the pharmacy route"), streaming line by line (constant memory,
// millions of lines), filters ANDed, output as a readable table (default), the JSON lines as they
// are, or CSV. Lines that are not audit events (an operational log on the same stdout) and the
// chain-start markers are left out unless asked for with --event chain-start.
import type { Writable } from 'node:stream'
import { parseDuration } from './duration.js'
import { orderAuditFiles } from './file-order.js'
import { readLines } from './line-reader.js'
import type { ChainVerifier, VerifyReport } from './verify.js'

export interface QueryFilters {
  idNat?: string
  route?: string
  /** access decision, or the outcome/cause of other events (allow, deny, failed, user, ...) */
  decision?: string
  event?: string
  /** client address, exactly */
  client?: string
  /** session reference (the hash the events carry, never the cookie) */
  session?: string
  /** the path starts with this (whole segments: /dossier matches /dossier and /dossier/12, not /dossiers) */
  pathPrefix?: string
  /** HTTP status: 403, or a class: 4xx, 5xx */
  status?: string
  /** ISO 8601 bounds, inclusive since, exclusive until */
  since?: string
  until?: string
}

export type QueryFormat = 'table' | 'json' | 'csv'

const COLUMNS = ['time', 'event', 'decision', 'idNat', 'route', 'method', 'path', 'status'] as const
type Row = Record<(typeof COLUMNS)[number], string>

/** An instant from an ISO date/time ("2025-03-01", "2025-03-01T08:00:00Z") or an age ("2h": two hours ago). */
export function parseInstant (text: string, now: number = Date.now()): string {
  const age = parseDuration(text)
  if (age !== undefined) return new Date(now - age).toISOString()
  const t = Date.parse(text)
  if (Number.isNaN(t)) throw new Error(`expected an ISO 8601 date or time (2025-03-01, 2025-03-01T08:00:00Z) or an age (30m, 2h, 7d), got ${JSON.stringify(text)}`)
  return new Date(t).toISOString()
}

interface Line {
  log?: unknown
  event?: unknown
  time?: unknown
  decision?: unknown
  outcome?: unknown
  cause?: unknown
  idNat?: unknown
  route?: unknown
  method?: unknown
  path?: unknown
  status?: unknown
  client?: unknown
  session?: unknown
}

function outcomeOf (e: Line): string {
  const v = e.decision ?? e.outcome ?? e.cause
  return typeof v === 'string' ? v : ''
}

export interface QueryOptions {
  /** verify the chain on the same pass (query --verify) */
  verifier?: ChainVerifier
  keepOrder?: boolean
}

export async function queryAuditFiles (files: string[], filters: QueryFilters, format: QueryFormat, out: Writable, options: QueryOptions = {}): Promise<{ matched: number; scanned: number; verify?: VerifyReport }> {
  let matched = 0
  let scanned = 0
  let buffer = ''
  const flush = async () => {
    if (buffer === '') return
    const ok = out.write(buffer)
    buffer = ''
    if (!ok) await new Promise<void>((resolve) => out.once('drain', resolve))
  }
  if (format === 'table') buffer += tableLine(Object.fromEntries(COLUMNS.map((c) => [c, c.toUpperCase()])) as Row)
  if (format === 'csv') buffer += COLUMNS.join(',') + '\n'
  // Cheap substring checks before parsing: most lines of a big file are rejected without JSON.parse.
  const needles: string[] = []
  for (const [name, value] of [['idNat', filters.idNat], ['route', filters.route], ['client', filters.client], ['session', filters.session]] as const) {
    if (value !== undefined) needles.push(`"${name}":${JSON.stringify(value)}`)
  }
  if (filters.pathPrefix !== undefined) needles.push(`"path":${JSON.stringify(filters.pathPrefix).slice(0, -1)}`)
  const statusMatch = filters.status === undefined ? undefined : statusMatcher(filters.status)
  const prefix = filters.pathPrefix === undefined ? undefined : filters.pathPrefix.replace(/\/+$/, '')
  const verifier = options.verifier
  const ordered = options.keepOrder === true ? files : await orderAuditFiles(files)

  for (const file of ordered) {
    verifier?.beginFile(file)
    const onLine = (text: string, lineNo: number): void | Promise<void> => {
      scanned++
      verifier?.line(file, lineNo, text)
      if (text === '' || text.charCodeAt(0) !== 123 /* { */) return
      for (const n of needles) if (!text.includes(n)) return
      let e: Line
      try {
        e = JSON.parse(text) as Line
      } catch {
        return
      }
      if (e.log !== undefined && e.log !== 'audit') return
      if (filters.event !== undefined ? e.event !== filters.event : (e.event === 'chain-start' || e.event === 'chain-head')) return
      if (filters.idNat !== undefined && e.idNat !== filters.idNat) return
      if (filters.route !== undefined && e.route !== filters.route) return
      if (filters.client !== undefined && e.client !== filters.client) return
      if (filters.session !== undefined && e.session !== filters.session) return
      if (prefix !== undefined && !(typeof e.path === 'string' && (prefix === '' || e.path === prefix || e.path.startsWith(prefix + '/')))) return
      if (statusMatch !== undefined && !(typeof e.status === 'number' && statusMatch(e.status))) return
      if (filters.decision !== undefined && outcomeOf(e) !== filters.decision) return
      const time = typeof e.time === 'string' ? e.time : ''
      if (filters.since !== undefined && time < filters.since) return
      if (filters.until !== undefined && time >= filters.until) return
      matched++
      if (format === 'json') buffer += text + '\n'
      else {
        const row: Row = {
          time, event: str(e.event), decision: outcomeOf(e), idNat: str(e.idNat), route: str(e.route),
          method: str(e.method), path: str(e.path), status: e.status === undefined ? '' : String(e.status)
        }
        buffer += format === 'csv' ? csvLine(row) : tableLine(row)
      }
      if (buffer.length > 65536) return flush()
    }
    const r = await readLines(file, onLine)
    verifier?.endFile(file, r.lines, r.endsWithNewline)
  }
  await flush()
  return verifier === undefined ? { matched, scanned } : { matched, scanned, verify: verifier.finish() }
}

/** "403" or a class "4xx"; throws on anything else. */
export function statusMatcher (text: string): (status: number) => boolean {
  if (/^[1-5]\d\d$/.test(text)) {
    const n = Number(text)
    return (s) => s === n
  }
  const m = /^([1-5])xx$/i.exec(text)
  if (m !== null) {
    const c = Number(m[1])
    return (s) => Math.floor(s / 100) === c
  }
  throw new Error(`expected an HTTP status (403) or a class (4xx), got ${JSON.stringify(text)}`)
}

function str (v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v)
}

// Fixed widths, so the table streams (no pass over the data to size columns); the path comes last
// and is never cut.
const WIDTHS: Record<(typeof COLUMNS)[number], number> = { time: 25, event: 8, decision: 17, idNat: 18, route: 21, method: 8, status: 7, path: 0 }

function tableLine (row: Row): string {
  const cell = (c: (typeof COLUMNS)[number]) => {
    const v = row[c].replace(/[\x00-\x1f\x7f]/g, '?')
    const w = WIDTHS[c]
    return v.length >= w ? v.slice(0, w - 2) + '… ' : v.padEnd(w)
  }
  return cell('time') + cell('event') + cell('decision') + cell('idNat') + cell('route') + cell('method') + cell('status') + row.path.replace(/[\x00-\x1f\x7f]/g, '?') + '\n'
}

function csvLine (row: Row): string {
  return COLUMNS.map((c) => csvCell(row[c])).join(',') + '\n'
}

/** RFC 4180, and a leading = + - @ is neutralised so a spreadsheet never runs a cell as a formula. */
export function csvCell (v: string): string {
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
}
