// The per-line work of `audit query`, which can run on another thread (block-pipeline.ts): does a
// line match the filters, and its output row (table, JSON line or CSV).

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

function outcomeOf(e: Line): string {
  const v = e.decision ?? e.outcome ?? e.cause
  return typeof v === 'string' ? v : ''
}

/** The output's first line (table and CSV headers). */
export function headerOf(format: QueryFormat): string {
  if (format === 'table') return tableLine(Object.fromEntries(COLUMNS.map((c) => [c, c.toUpperCase()])) as Row)
  if (format === 'csv') return `${COLUMNS.join(',')}\n`
  return ''
}

/**
 * A function giving the output row of a line (with its "\n"), or undefined when the line does not
 * match. Lines that are not audit events (another log on the same stdout) and chain markers never
 * match, unless asked for with `event`.
 */
export function rowMaker(filters: QueryFilters, format: QueryFormat): (text: string) => string | undefined {
  // Cheap substring checks before parsing: most lines of a big file are rejected without JSON.parse.
  const needles = needlesOf(filters)
  const statusMatch = filters.status === undefined ? undefined : statusMatcher(filters.status)
  const prefix = filters.pathPrefix === undefined ? undefined : filters.pathPrefix.replace(/\/+$/, '')
  return (text) => {
    if (text === '' || text.charCodeAt(0) !== 123 /* { */) return undefined
    for (const n of needles) if (!text.includes(n)) return undefined
    let e: Line
    try {
      e = JSON.parse(text) as Line
    } catch {
      return undefined
    }
    if (e.log !== undefined && e.log !== 'audit') return undefined
    if (filters.event !== undefined ? e.event !== filters.event : e.event === 'chain-start' || e.event === 'chain-head')
      return undefined
    if (filters.idNat !== undefined && e.idNat !== filters.idNat) return undefined
    if (filters.route !== undefined && e.route !== filters.route) return undefined
    if (filters.client !== undefined && e.client !== filters.client) return undefined
    if (filters.session !== undefined && e.session !== filters.session) return undefined
    if (
      prefix !== undefined &&
      !(typeof e.path === 'string' && (prefix === '' || e.path === prefix || e.path.startsWith(`${prefix}/`)))
    )
      return undefined
    if (statusMatch !== undefined && !(typeof e.status === 'number' && statusMatch(e.status))) return undefined
    if (filters.decision !== undefined && outcomeOf(e) !== filters.decision) return undefined
    const time = typeof e.time === 'string' ? e.time : ''
    if (filters.since !== undefined && time < filters.since) return undefined
    if (filters.until !== undefined && time >= filters.until) return undefined
    if (format === 'json') return `${text}\n`
    const row: Row = {
      time,
      event: str(e.event),
      decision: outcomeOf(e),
      idNat: str(e.idNat),
      route: str(e.route),
      method: str(e.method),
      path: str(e.path),
      status: e.status === undefined ? '' : String(e.status),
    }
    return format === 'csv' ? csvLine(row) : tableLine(row)
  }
}

/** Texts a line must contain to match the filters (each field as JSON.stringify writes it). */
export function needlesOf(filters: QueryFilters): string[] {
  const needles: string[] = []
  for (const [name, value] of [
    ['idNat', filters.idNat],
    ['route', filters.route],
    ['client', filters.client],
    ['session', filters.session],
  ] as const) {
    if (value !== undefined) needles.push(`"${name}":${JSON.stringify(value)}`)
  }
  if (filters.pathPrefix !== undefined) needles.push(`"path":${JSON.stringify(filters.pathPrefix).slice(0, -1)}`)
  return needles
}

/** "403" or a class "4xx"; throws on anything else. */
export function statusMatcher(text: string): (status: number) => boolean {
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

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v)
}

// Fixed widths, so the table streams (no pass over the data to size columns); the path comes last
// and is never cut.
const WIDTHS: Record<(typeof COLUMNS)[number], number> = {
  time: 25,
  event: 8,
  decision: 17,
  idNat: 18,
  route: 21,
  method: 8,
  status: 7,
  path: 0,
}
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters a terminal row must not carry
const CONTROL = /[\x00-\x1f\x7f]/g

function cell(row: Row, c: (typeof COLUMNS)[number]): string {
  const v = row[c]
  const w = WIDTHS[c]
  return v.length >= w ? `${v.slice(0, w - 2)}… ` : v.padEnd(w)
}

function tableLine(row: Row): string {
  // Control characters become "?" once over the whole line: one character for one, so the widths hold.
  const line =
    cell(row, 'time') +
    cell(row, 'event') +
    cell(row, 'decision') +
    cell(row, 'idNat') +
    cell(row, 'route') +
    cell(row, 'method') +
    cell(row, 'status') +
    row.path
  return `${line.replace(CONTROL, '?')}\n`
}

function csvLine(row: Row): string {
  return `${COLUMNS.map((c) => csvCell(row[c])).join(',')}\n`
}

/** RFC 4180, and a leading = + - @ is neutralised so a spreadsheet never runs a cell as a formula. */
export function csvCell(v: string): string {
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
}
