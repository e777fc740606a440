// The YAML side of loading: parse keeping positions, substitute ${VAR} in scalar values (on the
// parsed nodes, so that every line number still points at what the integrator wrote), and find the
// node behind a key path so that every later error can say file:line:col.
import { readFileSync } from 'node:fs'
import { isAbsolute } from 'node:path'
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml'
import type { ConfigIssue } from './config-error.js'

export type Segments = readonly string[]

export interface ParsedSource {
  file: string
  doc: Document.Parsed
  lineCounter: LineCounter
  /** the document as plain data, after substitution */
  data: unknown
  /** JSON pointers of the scalars where a ${VAR} was replaced: only these may be coerced */
  substituted: Set<string>
}

export interface Position {
  line: number
  column: number
}

/** Secrets are never echoed: an issue about a value under these paths gives no value. */
export function isSecretPath(segments: Segments): boolean {
  return (
    (segments[0] === 'psc' && segments[1] === 'clientSecret') ||
    (segments[0] === 'session' && segments[1] === 'secrets') ||
    (segments[0] === 'audit' && segments[1] === 'hmacKey') ||
    (segments[0] === 'psc' &&
      (segments[1] === 'outboundProxy' || segments[1] === 'certificate') &&
      segments[2] === 'password') ||
    // a proxy URL may carry a password (it is refused, without being echoed)
    (segments[0] === 'psc' && segments[1] === 'outboundProxy' && segments[2] === 'url') ||
    (segments[0] === 'assertion' && segments[1] === 'keys') ||
    // a Redis URL may carry a password
    (segments[0] === 'session' && segments[1] === 'store' && segments[2] === 'url') ||
    (segments[0] === 'accounts' && segments[1] === 'ldap' && segments[2] === 'bindPassword')
  )
}

export function pointerOf(segments: Segments): string {
  return segments.map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('')
}

export function segmentsOf(pointer: string): string[] {
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/
const INDEX = /^(0|[1-9][0-9]*)$/

/** ["routes", "2", "access"] → "routes[2].access"; odd keys are quoted: headers.identity["X-A"]. */
export function displayPath(segments: Segments): string {
  let out = ''
  for (const s of segments) {
    if (INDEX.test(s)) out += `[${s}]`
    else if (IDENT.test(s)) out += out === '' ? s : `.${s}`
    else out += `[${JSON.stringify(s)}]`
  }
  return out
}

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

type SubstResult = { ok: true; value: string; changed: boolean } | { ok: false; message: string }

/** Reads a mounted secret file; throws an Error whose message never holds the file's content. */
export type SecretFileReader = (path: string) => string

function readSecretFile(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new Error(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  }
}

// A secret written by `echo` or a Kubernetes Secret edited by hand ends with one newline.
const withoutTrailingNewline = (text: string) => text.replace(/\r?\n$/, '')

/**
 * `${VAR}`, `${VAR:-default}` (default when VAR is unset or empty, as in a shell) and `$${` for a
 * literal `${`. One pass: a value that comes from the environment is never substituted again.
 * Secrets from mounted files (Docker/Kubernetes secrets): `${file:/abs/path}`, and `${VAR}` with
 * VAR unset but VAR_FILE set reads the file VAR_FILE names; one trailing newline is dropped.
 */
export function substituteVariables(
  text: string,
  env: Record<string, string | undefined>,
  hideText = false,
  readFile: SecretFileReader = readSecretFile,
): SubstResult {
  if (!text.includes('${')) return { ok: true, value: text, changed: false }
  let out = ''
  let changed = false
  let i = 0
  while (i < text.length) {
    const dollar = text.indexOf('$', i)
    if (dollar === -1) {
      out += text.slice(i)
      break
    }
    out += text.slice(i, dollar)
    if (text.startsWith('$${', dollar)) {
      out += '${'
      i = dollar + 3
      changed = true
      continue
    }
    if (!text.startsWith('${', dollar)) {
      out += '$'
      i = dollar + 1
      continue
    }
    const close = text.indexOf('}', dollar + 2)
    if (close === -1) {
      return {
        ok: false,
        message: 'unterminated "${": write "${NAME}" or "${NAME:-default}", or "$${" for a literal "${"',
      }
    }
    const inner = text.slice(dollar + 2, close)
    if (inner.startsWith('file:')) {
      const path = inner.slice(5)
      if (!isAbsolute(path)) return { ok: false, message: `\${file:...} needs an absolute path, got "${path}"` }
      try {
        out += withoutTrailingNewline(readFile(path))
      } catch (err) {
        return { ok: false, message: `secret file: ${(err as Error).message}` }
      }
      changed = true
      i = close + 1
      continue
    }
    const sep = inner.indexOf(':-')
    const name = sep === -1 ? inner : inner.slice(0, sep)
    if (!VAR_NAME.test(name)) {
      const shown = hideText ? '' : ` "\${${inner}}"`
      return {
        ok: false,
        message: `invalid variable reference${shown}: expected \${NAME} or \${NAME:-default} with NAME made of letters, digits and "_"`,
      }
    }
    let fromEnv = env[name]
    const fileVar = `${name}_FILE`
    if (fromEnv === undefined && env[fileVar] !== undefined && env[fileVar] !== '') {
      try {
        fromEnv = withoutTrailingNewline(readFile(env[fileVar]!))
      } catch (err) {
        return {
          ok: false,
          message: `${name} is unset and ${fileVar} names a file that cannot be read: ${(err as Error).message}`,
        }
      }
    }
    if (sep !== -1) {
      out += fromEnv === undefined || fromEnv === '' ? inner.slice(sep + 2) : fromEnv
    } else if (fromEnv === undefined) {
      return {
        ok: false,
        message: `environment variable ${name} is not set: set it, or set ${fileVar} to the path of a file that holds it (a Docker or Kubernetes secret), or write \${${name}:-default} to give a default`,
      }
    } else {
      out += fromEnv
    }
    changed = true
    i = close + 1
  }
  return { ok: true, value: out, changed }
}

// A few yaml messages quote the offending source text; it could be a secret written in clear.
function hideExcerpts(message: string): string {
  return message.replace(/"([^"\n]{9,})"/g, '"…"')
}

function keyString(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value)
  if (typeof key === 'string' || typeof key === 'number') return String(key)
  return undefined
}

/** Parse and substitute. Issues (syntax errors, missing variables) are appended to `issues`. */
export function parseSource(
  text: string,
  file: string,
  env: Record<string, string | undefined>,
  issues: ConfigIssue[],
): ParsedSource | undefined {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text.replace(/^\uFEFF/, ''), { lineCounter, prettyErrors: false, uniqueKeys: true })
  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      const pos = lineCounter.linePos(err.pos[0])
      issues.push({
        file,
        line: pos.line,
        column: pos.col,
        path: '',
        message: `YAML syntax error: ${hideExcerpts(err.message)}`,
      })
    }
    return undefined
  }
  const substituted = new Set<string>()
  const walk = (node: unknown, segments: string[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const k = keyString(pair.key)
        if (k !== undefined) walk(pair.value, [...segments, k])
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        walk(item, [...segments, String(i)])
      })
    } else if (isScalar(node) && typeof node.value === 'string') {
      const secret = isSecretPath(segments)
      const r = substituteVariables(node.value, env, secret)
      if (!r.ok) {
        const pos = node.range ? lineCounter.linePos(node.range[0]) : undefined
        issues.push({ file, line: pos?.line, column: pos?.col, path: displayPath(segments), message: r.message })
      } else if (r.changed) {
        node.value = r.value
        substituted.add(pointerOf(segments))
      }
    }
  }
  walk(doc.contents, [])
  if (issues.length > 0) return undefined
  let data: unknown
  try {
    data = doc.toJS({ maxAliasCount: 1000 })
  } catch (err) {
    issues.push({ file, path: '', message: `YAML error: ${(err as Error).message}` })
    return undefined
  }
  return { file, doc, lineCounter, data, substituted }
}

/**
 * Where a key path is in the file. `atKey` points at the key itself (unknown keys, missing keys in
 * a mapping); otherwise a scalar value is pointed at, and a mapping or list value at its key.
 * A path that does not exist in the file (a default, a missing key) gives its nearest ancestor.
 */
export function locate(src: ParsedSource, segments: Segments, atKey = false): Position | undefined {
  const pos = (offset: number): Position => {
    const p = src.lineCounter.linePos(offset)
    return { line: p.line, column: p.col }
  }
  let node: unknown = src.doc.contents
  let best: Position | undefined = isNodeWithRange(node) ? pos(node.range[0]) : undefined
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!
    const last = i === segments.length - 1
    if (isMap(node)) {
      const pair = node.items.find((p) => keyString(p.key) === seg)
      if (pair === undefined) return best
      const keyPos = isNodeWithRange(pair.key) ? pos(pair.key.range[0]) : best
      const value = pair.value
      if (last) {
        if (atKey) return keyPos
        if (isScalar(value) && value.value !== null && value.range) return pos(value.range[0])
        return keyPos
      }
      best = keyPos
      node = value
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)]
      if (item === undefined) return best
      if (isNodeWithRange(item)) best = pos(item.range[0])
      node = item
    } else {
      return best
    }
  }
  return best
}

function isNodeWithRange(n: unknown): n is Node & { range: [number, number, number] } {
  return typeof n === 'object' && n !== null && Array.isArray((n as { range?: unknown }).range)
}
