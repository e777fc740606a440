// `psc-gateway audit query FILE...`: the everyday questions ("what did this practitioner open
// yesterday?", "every refusal on the pharmacy route"), streaming line by line (constant memory,
// millions of lines), filters ANDed, output as a readable table (default), the JSON lines as they
// are, or CSV. Lines that are not audit events (an operational log on the same stdout) and the
// chain-start markers are left out unless asked for with --event chain-start.
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import type { Writable } from 'node:stream'
import { parseDuration } from './duration.js'

export interface QueryFilters {
  idNat?: string
  route?: string
  /** access decision, or the outcome/cause of other events (allow, deny, failed, user, ...) */
  decision?: string
  event?: string
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
}

function outcomeOf (e: Line): string {
  const v = e.decision ?? e.outcome ?? e.cause
  return typeof v === 'string' ? v : ''
}

export async function queryAuditFiles (files: string[], filters: QueryFilters, format: QueryFormat, out: Writable): Promise<{ matched: number; scanned: number }> {
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
  const needles = [filters.idNat, filters.route].filter((x): x is string => x !== undefined).map((x) => JSON.stringify(x))

  for (const file of files) {
    const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 }), crlfDelay: Infinity })
    for await (const text of lines) {
      scanned++
      if (text === '' || text.charCodeAt(0) !== 123 /* { */) continue
      if (needles.length > 0 && !needles.every((n) => text.includes(n))) continue
      let e: Line
      try {
        e = JSON.parse(text) as Line
      } catch {
        continue
      }
      if (e.log !== undefined && e.log !== 'audit') continue
      if (filters.event !== undefined ? e.event !== filters.event : e.event === 'chain-start') continue
      if (filters.idNat !== undefined && e.idNat !== filters.idNat) continue
      if (filters.route !== undefined && e.route !== filters.route) continue
      if (filters.decision !== undefined && outcomeOf(e) !== filters.decision) continue
      const time = typeof e.time === 'string' ? e.time : ''
      if (filters.since !== undefined && time < filters.since) continue
      if (filters.until !== undefined && time >= filters.until) continue
      matched++
      if (format === 'json') buffer += text + '\n'
      else {
        const row: Row = {
          time, event: str(e.event), decision: outcomeOf(e), idNat: str(e.idNat), route: str(e.route),
          method: str(e.method), path: str(e.path), status: e.status === undefined ? '' : String(e.status)
        }
        buffer += format === 'csv' ? csvLine(row) : tableLine(row)
      }
      if (buffer.length > 65536) await flush()
    }
  }
  await flush()
  return { matched, scanned }
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
