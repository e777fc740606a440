// Loading the configuration for a command: on an error, the file, line and key, and no start.
import { ConfigError } from '../config/errors.js'
import { loadConfigFile, type LoadedConfig } from '../config/load.js'
import { checkAccountsSettings } from '../accounts/check.js'
import { ConfigRefused } from './config-refused.js'


export function loadOrRefuse(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  try {
    const loaded = loadConfigFile(file, env)
    for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`)
    // the mapping file and the directory's CA, named by the configuration (issue 17)
    const accountProblems = checkAccountsSettings(loaded.config.accounts)
    if (accountProblems.length > 0) throw new ConfigRefused(`invalid configuration, not starting:\n${accountProblems.join('\n')}`)
    return loaded
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigRefused(`invalid configuration, not starting:\n${err.message}`)
    throw err
  }
}
