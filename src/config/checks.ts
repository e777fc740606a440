// What a section validator and a section converter are given, and what a section is. Validators
// report problems by key path; the loader turns paths into file:line:col (yaml-source.ts).
import type { GatewayConfig } from './types.js'
import type { RawConfig } from './schema.js'
import type { RawIssue } from './schema-issues.js'
import { locate, pointerOf, type ParsedSource } from './yaml-source.js'

export interface Checks {
  /** a problem: the gateway refuses to start */
  error(path: string[], message: string, atKey?: boolean): void
  /** works, but is probably not meant */
  warn(path: string[], message: string, atKey?: boolean): void
  /** ", line N" of another key, for messages that point at it; "" when it cannot be placed */
  lineOf(path: string[]): string
  /** the integrator wrote this key (its value is not a schema default) */
  wrote(path: string[]): boolean
  /** the value at this path came from ${VAR} or ${file:...} (a secret kept out of the file) */
  substituted(path: string[]): boolean
  /** the configuration file, to place and open the files it names (charter.file, branding.logo) */
  source?: string
}

export interface Conversion {
  wrote(path: string[]): boolean
  substituted(path: string[]): boolean
  /** the configuration file, to place relative paths it names (accounts.file) */
  source?: string
}

/**
 * One section of the file (one or a few top-level keys): `check` finds what the schema cannot
 * express (several keys together, URLs, references); `convert` runs only on a file that passed
 * every check and gives that section of GatewayConfig.
 */
export interface ConfigSection<K extends keyof GatewayConfig> {
  check?: (raw: RawConfig, checks: Checks) => void
  convert: (raw: RawConfig, conversion: Conversion) => Pick<GatewayConfig, K>
}

export interface CollectedChecks extends Checks {
  issues: RawIssue[]
  warnings: RawIssue[]
}

export function collectChecks(src: ParsedSource): CollectedChecks {
  const issues: RawIssue[] = []
  const warnings: RawIssue[] = []
  return {
    issues,
    warnings,
    error: (segments, message, atKey = false) => {
      issues.push({ segments, message, atKey })
    },
    warn: (segments, message, atKey = false) => {
      warnings.push({ segments, message, atKey })
    },
    lineOf: (path) => {
      const p = locate(src, path)
      return p === undefined ? '' : `, line ${p.line}`
    },
    wrote: (path) => src.doc.hasIn(path),
    substituted: (path) => src.substituted.has(pointerOf(path)),
    source: src.file,
  }
}
