// Loading the configuration for a command: on an error, the file, line and key, and no start.
import { existsSync } from 'node:fs'
import { ConfigError } from '../config/config-error.js'
import { loadConfigFile, type LoadedConfig } from '../config/load.js'
import { checkAccountsSettings } from '../accounts/check.js'
import { ConfigRefused } from './config-refused.js'

/**
 * `serve` refuses to start; `check` starts nothing and only says the file is invalid. A missing
 * file is said in words (not ENOENT).
 */
export function loadOrRefuse(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  purpose: 'serve' | 'check' = 'serve',
): LoadedConfig {
  const invalid = purpose === 'serve' ? 'invalid configuration, not starting' : 'invalid configuration'
  if (!existsSync(file))
    throw new ConfigRefused(`file not found: ${file}${purpose === 'serve' ? ' (not starting)' : ''}`)
  try {
    const loaded = loadConfigFile(file, env)
    for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`)
    // the mapping file and the directory's CA, named by the configuration
    const accountProblems = checkAccountsSettings(loaded.config.accounts)
    if (accountProblems.length > 0) throw new ConfigRefused(`${invalid}:\n${accountProblems.join('\n')}`)
    return loaded
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigRefused(`${invalid}:\n${err.message}`)
    throw err
  }
}
