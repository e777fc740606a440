// The mapping file: national id or RPPS → the practitioner's login in the application, display name
// and groups, kept by the hospital as CSV (a spreadsheet export) or YAML. Parsed whole, every bad
// line reported with its number; the previous good mapping stays in force when an edit breaks it.
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node } from 'yaml'

export interface MappedAccount {
  login: string
  displayName?: string
  groups: string[]
}

export interface MappingProblem {
  line: number
  message: string
}

export interface ParsedMapping {
  /** "idNat:<value>" or "rpps:<value>" → account */
  byKey: ReadonlyMap<string, MappedAccount>
  problems: MappingProblem[]
}

const KEY_COLUMNS = ['idNat', 'rpps'] as const
const COLUMNS = new Set<string>([...KEY_COLUMNS, 'login', 'displayName', 'groups'])
const RPPS = /^[0-9]{11}$/
// A login goes into a header the application trusts: printable, no separators that could split it.
const LOGIN = /^[^\s,;:"'<>\\/()[\]{}]+$/u
const GROUP = /^[^,|\r\n\t]+$/u

function checkEntry(
  raw: Record<string, string | string[] | undefined>,
  line: number,
  out: Map<string, MappedAccount>,
  seen: Map<string, number>,
  problems: MappingProblem[],
): void {
  const bad = (message: string): void => {
    problems.push({ line, message })
  }
  const keys: string[] = []
  const idNat = raw.idNat
  const rpps = raw.rpps
  if (typeof idNat === 'string' && idNat !== '') keys.push(`idNat:${idNat}`)
  if (typeof rpps === 'string' && rpps !== '') {
    if (!RPPS.test(rpps)) return bad(`rpps ${JSON.stringify(rpps)} is not an RPPS number (11 digits)`)
    keys.push(`rpps:${rpps}`)
  }
  if (keys.length === 0) return bad('neither idNat nor rpps is given: the entry matches nobody')
  const login = raw.login
  if (typeof login !== 'string' || login === '') return bad('login is missing')
  if (!LOGIN.test(login)) return bad(`login ${JSON.stringify(login)} contains a space or a separator character`)
  const displayName = typeof raw.displayName === 'string' && raw.displayName !== '' ? raw.displayName : undefined
  if (displayName !== undefined && /[\r\n\t]/.test(displayName))
    return bad('displayName contains a line break or a tab')
  const groups =
    raw.groups === undefined
      ? []
      : Array.isArray(raw.groups)
        ? raw.groups
        : raw.groups
            .split('|')
            .map((g) => g.trim())
            .filter((g) => g !== '')
  for (const g of groups)
    if (!GROUP.test(g)) return bad(`group ${JSON.stringify(g)} contains "," or "|" or a line break`)
  for (const key of keys) {
    const first = seen.get(key)
    if (first !== undefined) return bad(`${key.replace(':', ' ')} is already mapped at line ${first}`)
  }
  const account: MappedAccount = { login, groups, ...(displayName !== undefined && { displayName }) }
  for (const key of keys) {
    seen.set(key, line)
    out.set(key, account)
  }
}

/** RFC 4180 fields of one line; `,` or `;` separated (a French spreadsheet exports `;`). */
function csvFields(line: string, sep: string): string[] | string {
  const fields: string[] = []
  let i = 0
  for (;;) {
    let field = ''
    if (line[i] === '"') {
      i++
      for (;;) {
        if (i >= line.length) return 'a quoted field is not closed'
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"'
            i += 2
            continue
          }
          i++
          break
        }
        field += line[i++]
      }
      if (i < line.length && line[i] !== sep) return `unexpected text after a quoted field at column ${i + 1}`
    } else {
      const end = line.indexOf(sep, i)
      field = line.slice(i, end === -1 ? line.length : end)
      if (field.includes('"')) return 'a field contains a quote but is not quoted'
      i = end === -1 ? line.length : end
    }
    fields.push(field.trim())
    if (i >= line.length) return fields
    i++ // separator
  }
}

export function parseCsvMapping(text: string): ParsedMapping {
  const problems: MappingProblem[] = []
  const byKey = new Map<string, MappedAccount>()
  const seen = new Map<string, number>()
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  let header: string[] | undefined
  let sep = ','
  lines.forEach((text, index) => {
    const line = index + 1
    if (text.trim() === '' || text.trimStart().startsWith('#')) return
    if (header === undefined) {
      sep = text.includes(';') && !text.includes(',') ? ';' : ','
      const names = csvFields(text, sep)
      if (typeof names === 'string') {
        problems.push({ line, message: names })
        return
      }
      const unknown = names.find((n) => !COLUMNS.has(n))
      if (unknown !== undefined) {
        problems.push({
          line,
          message: `unknown column ${JSON.stringify(unknown)} (columns: idNat and/or rpps, login, displayName, groups)`,
        })
        return
      }
      if (!names.includes('login')) {
        problems.push({ line, message: 'the header line has no "login" column' })
        return
      }
      if (!names.some((n) => n === 'idNat' || n === 'rpps')) {
        problems.push({ line, message: 'the header line has neither an "idNat" nor an "rpps" column' })
        return
      }
      header = names
      return
    }
    const fields = csvFields(text, sep)
    if (typeof fields === 'string') {
      problems.push({ line, message: fields })
      return
    }
    if (fields.length !== header.length) {
      problems.push({ line, message: `expected ${header.length} fields (${header.join(sep)}), got ${fields.length}` })
      return
    }
    checkEntry(Object.fromEntries(header.map((h, i) => [h, fields[i]])), line, byKey, seen, problems)
  })
  if (header === undefined && problems.length === 0)
    problems.push({
      line: 1,
      message: 'the file is empty: expected a header line such as rpps,login,displayName,groups',
    })
  return { byKey, problems }
}

export function parseYamlMapping(text: string): ParsedMapping {
  const problems: MappingProblem[] = []
  const byKey = new Map<string, MappedAccount>()
  const seen = new Map<string, number>()
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true })
  const lineOf = (node: Node | null | undefined): number => (node?.range ? lineCounter.linePos(node.range[0]).line : 1)
  for (const e of doc.errors) problems.push({ line: e.linePos?.[0].line ?? 1, message: e.message.split('\n')[0]! })
  if (problems.length > 0) return { byKey, problems }
  if (doc.contents === null)
    return {
      byKey,
      problems: [
        { line: 1, message: 'the file is empty: expected a list of { rpps or idNat, login, displayName, groups }' },
      ],
    }
  if (!isSeq(doc.contents))
    return {
      byKey,
      problems: [{ line: lineOf(doc.contents), message: 'expected a list of entries (- rpps: "...", login: ...)' }],
    }
  for (const item of doc.contents.items) {
    const line = lineOf(item as Node)
    if (!isMap(item)) {
      problems.push({ line, message: 'expected an entry with rpps or idNat, login, displayName, groups' })
      continue
    }
    const raw: Record<string, string | string[] | undefined> = {}
    let broken = false
    for (const pair of item.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : ''
      const at = lineOf((pair.value ?? pair.key) as Node)
      if (!COLUMNS.has(key)) {
        problems.push({
          line: at,
          message: `unknown key ${JSON.stringify(key)} (keys: idNat, rpps, login, displayName, groups)`,
        })
        broken = true
        continue
      }
      if (key === 'groups') {
        if (!isSeq(pair.value) || !pair.value.items.every((g) => isScalar(g) && typeof g.value === 'string')) {
          problems.push({ line: at, message: 'groups: expected a list of names, e.g. [DPI-Medecins, DPI-Admins]' })
          broken = true
          continue
        }
        raw.groups = pair.value.items.map((g) => String((g as { value: string }).value))
      } else {
        if (!isScalar(pair.value) || typeof pair.value.value !== 'string') {
          problems.push({
            line: at,
            message: `${key}: expected a quoted string (YAML reads 0012345678 as a number and loses its zeros)`,
          })
          broken = true
          continue
        }
        raw[key] = pair.value.value
      }
    }
    if (!broken) checkEntry(raw, line, byKey, seen, problems)
  }
  return { byKey, problems }
}

export function parseMapping(file: string, text: string): ParsedMapping {
  return /\.csv$/i.test(file) ? parseCsvMapping(text) : parseYamlMapping(text)
}
