// What `check` (and start-up) verifies beyond the YAML: the mapping file parses, line by line, and
// the CA file of the directory is a readable PEM. Network checks belong to `doctor` (ldap-health.ts).
import { readFileSync } from 'node:fs'
import type { AccountsSettings } from '../config/types.js'
import { loadMappingFileSync, MappingFileError } from './mapping-source.js'

/** Problems, one line each ("file:line: message"); empty when all is well. */
export function checkAccountsSettings(settings: AccountsSettings | undefined): string[] {
  if (settings === undefined) return []
  const problems: string[] = []
  if (settings.file !== undefined) {
    try {
      loadMappingFileSync(settings.file)
    } catch (err) {
      if (!(err instanceof MappingFileError)) throw err
      problems.push(...err.problems.map((p) => `${err.file}${p.line > 0 ? `:${p.line}` : ''}: ${p.message}`))
    }
  }
  const ca = settings.ldap?.caFile
  if (ca !== undefined) {
    try {
      if (!readFileSync(ca, 'utf8').includes('-----BEGIN CERTIFICATE-----'))
        problems.push(`${ca}: accounts.ldap.caFile: not a PEM certificate bundle`)
    } catch (err) {
      problems.push(`${ca}: accounts.ldap.caFile: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
    }
  }
  return problems
}
