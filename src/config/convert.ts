// The file's two steps after the schema: every section's checks (validateConfig), then, on a file
// that passed them all, every section's conversion into the GatewayConfig (convertConfig).
import { pointerOf } from './yaml-source.js'
import { collectChecks, type Conversion } from './checks.js'
import { checkDurations } from './duration-keys.js'
import { ConfigSchema, type RawConfig } from './schema.js'
import type { RawIssue } from './schema-issues.js'
import { SECTIONS } from './sections/section-list.js'
import type { GatewayConfig } from './types.js'
import type { ParsedSource } from './yaml-source.js'

// A GatewayConfig key that no section converts is a compile error here ("does not satisfy the
// constraint 'never'" names the key).
type KeysOf<T> = T extends unknown ? keyof T : never
type ConvertedKeys = KeysOf<ReturnType<(typeof SECTIONS)[number]['convert']>>
type Nothing<T extends never> = T
export type UnconvertedKeys = Nothing<Exclude<keyof GatewayConfig, ConvertedKeys | 'source'>>

export function validateConfig(raw: RawConfig, src: ParsedSource): { issues: RawIssue[]; warnings: RawIssue[] } {
  const checks = collectChecks(src)
  checkDurations(ConfigSchema, raw, checks)
  for (const section of SECTIONS) section.check?.(raw, checks)
  return { issues: checks.issues, warnings: checks.warnings }
}

/** Only for a file validateConfig found no issue in. */
export function convertConfig(raw: RawConfig, src: ParsedSource): GatewayConfig {
  const conversion: Conversion = {
    wrote: (path) => src.doc.hasIn(path),
    substituted: (path) => src.substituted.has(pointerOf(path)),
    source: src.file,
  }
  const parts = SECTIONS.map((section) => section.convert(raw, conversion))
  return Object.assign({ source: src.file }, ...parts) as GatewayConfig
}
