// TypeBox validation errors → one clear message per key path. TypeBox reports what failed in its
// own terms (a union failed, a pattern failed); integrators need to read what to write instead.
import { Kind, type TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors'
import type { ConfigIssue } from './config-error.js'
import { closest } from './closest.js'
import { displayPath, isSecretPath, locate, segmentsOf, type ParsedSource, type Segments } from './yaml-source.js'

type Schema = TSchema & Record<string, unknown>

/** The schema that describes the value at a key path, or undefined (unknown key). */
export function schemaAt(root: TSchema, segments: Segments): TSchema | undefined {
  let s: Schema | undefined = root as Schema
  for (const seg of segments) {
    if (s === undefined) return undefined
    s = childSchema(s, seg)
  }
  return s
}

function childSchema(s: Schema, seg: string): Schema | undefined {
  switch (s[Kind]) {
    case 'Object':
      return (s.properties as Record<string, Schema>)[seg]
    case 'Record':
      return Object.values(s.patternProperties as Record<string, Schema>)[0]
    case 'Array':
      return s.items as Schema
    case 'Union': {
      for (const v of s.anyOf as Schema[]) {
        const c = childSchema(v, seg)
        if (c !== undefined) return c
      }
      return undefined
    }
    default:
      return undefined
  }
}

/** After substitution "8080" is a string: make it the integer or boolean the schema wants. */
export function coerceSubstituted(root: TSchema, data: unknown, pointers: Iterable<string>): void {
  for (const pointer of pointers) {
    const segments = segmentsOf(pointer)
    const schema = schemaAt(root, segments) as Schema | undefined
    if (schema === undefined || segments.length === 0) continue
    let parent: unknown = data
    for (const seg of segments.slice(0, -1)) {
      parent = typeof parent === 'object' && parent !== null ? (parent as Record<string, unknown>)[seg] : undefined
    }
    if (typeof parent !== 'object' || parent === null) continue
    const key = segments[segments.length - 1]!
    const value = (parent as Record<string, unknown>)[key]
    if (typeof value !== 'string') continue
    const kind = schema[Kind]
    if (
      (kind === 'Integer' && /^-?[0-9]+$/.test(value)) ||
      (kind === 'Number' && /^-?[0-9]+(\.[0-9]+)?$/.test(value))
    ) {
      ;(parent as Record<string, unknown>)[key] = Number(value)
    } else if (kind === 'Boolean' && (value === 'true' || value === 'false')) {
      ;(parent as Record<string, unknown>)[key] = value === 'true'
    }
  }
}

export interface RawIssue {
  segments: string[]
  message: string
  atKey?: boolean
}

/** All schema problems, deduplicated, positioned and sorted by line. */
export function schemaIssues(root: TSchema, value: unknown, src: ParsedSource): ConfigIssue[] {
  const raw: RawIssue[] = []
  collect(root, value, [], raw)
  return positioned(raw, src)
}

export function positioned(raw: RawIssue[], src: ParsedSource): ConfigIssue[] {
  const seen = new Set<string>()
  const out: ConfigIssue[] = []
  for (const r of raw) {
    const pos = locate(src, r.segments, r.atKey)
    const issue: ConfigIssue = {
      file: src.file,
      line: pos?.line,
      column: pos?.column,
      path: displayPath(r.segments),
      message: r.message,
    }
    const key = `${issue.line}:${issue.column}:${issue.path}:${issue.message}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push(issue)
  }
  return sortIssues(out)
}

export function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return issues
    .map((issue, i) => ({ issue, i }))
    .sort(
      (a, b) => (a.issue.line ?? 0) - (b.issue.line ?? 0) || (a.issue.column ?? 0) - (b.issue.column ?? 0) || a.i - b.i,
    )
    .map((x) => x.issue)
}

function collect(schema: TSchema, value: unknown, base: string[], out: RawIssue[]): void {
  for (const e of Value.Errors(schema, value)) {
    const segments = [...base, ...segmentsOf(e.path)]
    // A missing key is reported once, as missing, not again as "expected a string, got nothing".
    if (e.value === undefined && e.type !== ValueErrorType.ObjectRequiredProperty) continue
    if (e.type === ValueErrorType.Union) {
      unionIssue(e, segments, out)
      continue
    }
    out.push(describeError(e, segments))
  }
}

function flattenUnion(s: Schema): Schema[] {
  return s[Kind] === 'Union' ? (s.anyOf as Schema[]).flatMap(flattenUnion) : [s]
}

function typeMatches(s: Schema, v: unknown): boolean {
  switch (s[Kind]) {
    case 'Object':
    case 'Record':
      return typeof v === 'object' && v !== null && !Array.isArray(v)
    case 'Array':
      return Array.isArray(v)
    case 'String':
      return typeof v === 'string'
    case 'Integer':
    case 'Number':
      return typeof v === 'number'
    case 'Boolean':
      return typeof v === 'boolean'
    default:
      return false
  }
}

function unionIssue(e: ValueError, segments: string[], out: RawIssue[]): void {
  const variants = flattenUnion(e.schema as Schema)
  const candidates = variants.filter((v) => !('const' in v) && typeMatches(v, e.value))
  // When only one alternative has the value's shape (an access mapping), its own errors say more.
  if (candidates.length === 1) {
    collect(candidates[0]!, e.value, segments, out)
    return
  }
  out.push({
    segments,
    message: `expected ${describeSchema(e.schema as Schema)}, got ${describeValue(e.value, segments)}`,
  })
}

const RECORD_KEYS: Record<string, string> = {
  upstreams: 'an upstream name made of letters, digits, "_", "." and "-"',
  identity: 'an HTTP header name (letters, digits, "-")',
}

function describeError(e: ValueError, segments: string[]): RawIssue {
  const s = e.schema as Schema
  const got = (): string => describeValue(e.value, segments)
  const last = segments[segments.length - 1] ?? ''
  const parent = segments.slice(0, -1)
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return { segments: parent, message: `missing required key "${last}"`, atKey: true }
    case ValueErrorType.ObjectAdditionalProperties: {
      if (s[Kind] === 'Record') {
        const what = RECORD_KEYS[parent[parent.length - 1] ?? ''] ?? 'a valid key'
        return { segments, message: `invalid key "${last}": expected ${what}`, atKey: true }
      }
      const known = Object.keys(s.properties as object)
      const close = closest(last, known)
      const hint = close !== undefined ? ` (did you mean "${close}"?)` : ` (known keys: ${known.join(', ')})`
      return { segments, message: `unknown key "${last}"${hint}`, atKey: true }
    }
    case ValueErrorType.ObjectMinProperties: {
      if (s[Kind] === 'Record') return { segments, message: 'expected at least one entry' }
      return { segments, message: `expected at least one of: ${Object.keys(s.properties as object).join(', ')}` }
    }
    case ValueErrorType.ArrayMinItems:
      return {
        segments,
        message: `expected a list of at least ${String(s.minItems)} item${s.minItems === 1 ? '' : 's'}, got ${got()}`,
      }
    case ValueErrorType.StringMinLength:
      return {
        segments,
        message:
          s.minLength === 1
            ? `expected a non-empty string, got ${got()}`
            : `expected at least ${String(s.minLength)} characters, got ${(e.value as string).length}`,
      }
    case ValueErrorType.StringMaxLength:
      return {
        segments,
        message: `expected at most ${String(s.maxLength)} characters, got ${(e.value as string).length}`,
      }
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.NumberMinimum:
      return { segments, message: `expected ${describeSchema(s)}, got ${got()}` }
    default:
      return { segments, message: `expected ${describeSchema(s)}, got ${got()}` }
  }
}

function lowerArticle(text: string): string {
  return /^(A|An) /.test(text) ? text[0]!.toLowerCase() + text.slice(1) : text
}

/** What a schema accepts, in words. */
export function describeSchema(s: Schema): string {
  if ('const' in s) return String(s.const)
  switch (s[Kind]) {
    case 'Union': {
      const variants = flattenUnion(s)
      const literals = variants.filter((v) => 'const' in v).map((v) => String(v.const))
      const others = variants.filter((v) => !('const' in v)).map(describeSchema)
      if (others.length === 0) return `one of: ${literals.join(', ')}`
      if (literals.length === 0) return others.join(' or ')
      return `one of: ${literals.join(', ')}, or ${others.join(' or ')}`
    }
    case 'Object': {
      const keys = Object.keys(s.properties as object)
      return keys.length > 0 && (s.required === undefined || (s.required as string[]).length === 0)
        ? `an object with ${keys.join('/')}`
        : 'a mapping (key: value)'
    }
    case 'Record':
      return 'a mapping (key: value)'
    case 'Array':
      return `a list of ${describeSchema(s.items as Schema)}`
    case 'Integer':
    case 'Number': {
      const what = s[Kind] === 'Integer' ? 'an integer' : 'a number'
      if (typeof s.minimum === 'number' && typeof s.maximum === 'number')
        return `${what} from ${s.minimum} to ${s.maximum}`
      if (typeof s.minimum === 'number') return `${what} of at least ${s.minimum}`
      return what
    }
    case 'Boolean':
      return 'true or false'
    case 'String': {
      if (typeof s.description === 'string' && typeof s.pattern === 'string') return lowerArticle(s.description)
      if (typeof s.pattern === 'string') return `a string matching ${s.pattern}`
      return 'a string'
    }
    default:
      return typeof s.description === 'string' ? lowerArticle(s.description) : 'a valid value'
  }
}

/** What was written, in words; never the value of a secret. */
export function describeValue(v: unknown, segments: Segments): string {
  if (v === null) return 'an empty value'
  if (isSecretPath(segments) && typeof v !== 'object') {
    return typeof v === 'string'
      ? `a string of ${v.length} characters (not shown: secret)`
      : `a ${typeof v} (not shown: secret)`
  }
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : 'a list'
  if (typeof v === 'object') return 'a mapping'
  if (typeof v === 'string') {
    if (v === '') return 'an empty string'
    return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v)
  }
  if (typeof v === 'number') return `the number ${v}`
  if (typeof v === 'boolean') return `the boolean ${v}`
  return typeof v
}
