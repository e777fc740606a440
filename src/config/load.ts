// Loading a configuration file: YAML → ${VAR} substitution → defaults → schema validation →
// section checks (sections/*.ts) → GatewayConfig. Every problem found is reported at once, with file:line:col.
import { readFileSync } from 'node:fs'
import { Value } from '@sinclair/typebox/value'
import { ConfigSchema, type RawConfig } from './schema.js'
import type { GatewayConfig } from './types.js'
import { ConfigError, formatConfigIssue, type ConfigIssue } from './config-error.js'
import { coerceSubstituted, positioned, schemaIssues } from './schema-issues.js'
import { convertConfig, validateConfig } from './convert.js'
import { parseSource, pointerOf, type ParsedSource } from './yaml-source.js'
import { UpstreamSchema } from './sections/upstreams.js'

export interface LoadedConfig {
  config: GatewayConfig
  /** things that work but are probably not meant (e.g. an http:// publicUrl): "file:line:col: path: message" */
  warnings: string[]
}

type Env = Record<string, string | undefined>

/** Read and load a YAML configuration file. Throws ConfigError. */
export function loadConfigFile(path: string, env: Env = process.env): LoadedConfig {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new ConfigError([
      { file: path, path: '', message: `cannot read the configuration file (${code ?? (err as Error).message})` },
    ])
  }
  return loadConfigText(text, path, env)
}

/** Load a configuration from YAML text; `source` names it in messages. Throws ConfigError. */
export function loadConfigText(text: string, source: string, env: Env = process.env): LoadedConfig {
  const issues: ConfigIssue[] = []
  const src = parseSource(text, source, env, issues)
  if (src === undefined) throw new ConfigError(issues)

  const data = src.data
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError([
      { file: source, line: 1, column: 1, path: '', message: 'expected a YAML mapping (key: value) at the top level' },
    ])
  }
  coerceSubstituted(ConfigSchema, data, src.substituted)
  dropEmptySubstitutedSecrets(data, src)

  const value = Value.Default(ConfigSchema, Value.Clone(data))
  applyUpstreamDefaults(value)
  const schemaProblems = schemaIssues(ConfigSchema, value, src)
  if (schemaProblems.length > 0) throw new ConfigError(schemaProblems)

  const raw = value as RawConfig
  const { issues: problems, warnings } = validateConfig(raw, src)
  if (problems.length > 0) throw new ConfigError(positioned(problems, src))
  return { config: convertConfig(raw, src), warnings: positioned(warnings, src).map(formatConfigIssue) }
}

/**
 * `- ${SESSION_SECRET_PREVIOUS:-}` is how key rotation is naturally written: an entry that came out
 * of substitution empty means "no such secret", not an empty secret. Removed from the data and from
 * the YAML document alike, so that every later error still points at the right line.
 */
function dropEmptySubstitutedSecrets(data: unknown, src: ParsedSource): void {
  const session = (data as { session?: Record<string, unknown> }).session
  for (const key of ['secrets', 'acceptedSecrets']) {
    const secrets = session?.[key]
    if (!Array.isArray(secrets)) continue
    for (let i = secrets.length - 1; i >= 0; i--) {
      if (secrets[i] === '' && src.substituted.has(pointerOf(['session', key, String(i)]))) {
        secrets.splice(i, 1)
        src.doc.deleteIn(['session', key, i])
      }
    }
  }
}

// Value.Default does not descend into Record values whose schema has no default of its own.
function applyUpstreamDefaults(value: unknown): void {
  const upstreams = (value as { upstreams?: unknown }).upstreams
  if (typeof upstreams !== 'object' || upstreams === null) return
  for (const [name, u] of Object.entries(upstreams)) {
    ;(upstreams as Record<string, unknown>)[name] = Value.Default(UpstreamSchema, u)
  }
}
