// The commands of psc-gateway: adding one is one entry here (and its file in src/cli/).
import { AUDIT_USAGE, runAuditCommand, type AuditCommandOptions } from '../audit/commands.js'
import { configJsonSchemaText } from '../config/jsonSchema.js'
import type { Command } from './command.js'
import { initCommand } from './init.js'
import { demoAppCommand, demoCommand, emulatorCommand } from './local.js'
import { checkCommand, serveCommand } from './serve.js'

const schemaCommand: Command = {
  name: 'schema',
  summary: 'Print the JSON Schema of the configuration file (for editors and CI).',
  usage: '',
  options: {},
  async run() {
    process.stdout.write(configJsonSchemaText())
    return 0
  }
}

const auditCommand: Command = {
  name: 'audit',
  summary: 'Verify or search audit files.',
  usage: 'verify|query FILE... [options]',
  details: AUDIT_USAGE.replace(/^ {2}/gm, ''),
  positionals: true,
  options: {
    'key-env': { type: 'string', value: 'NAME', description: 'verify: the variable that holds the HMAC key (default AUDIT_HMAC_KEY)' },
    'key-file': { type: 'string', value: 'F', description: 'verify: the file that holds the HMAC key' },
    idnat: { type: 'string', value: 'X', description: 'query: this practitioner' },
    route: { type: 'string', value: 'R', description: 'query: this route' },
    decision: { type: 'string', value: 'D', description: 'query: allow, deny, login, reject, or a login outcome / logout cause' },
    event: { type: 'string', value: 'E', description: 'query: this event type' },
    since: { type: 'string', value: 'T', description: 'query: from T (ISO 8601, or an age like 2h, 7d)' },
    until: { type: 'string', value: 'T', description: 'query: until T' },
    format: { type: 'string', value: 'F', description: 'query: table (default), json or csv' }
  },
  async run({ values, positionals }) {
    return runAuditCommand(positionals, values as AuditCommandOptions)
  }
}

export const COMMANDS: readonly Command[] = [
  serveCommand,
  checkCommand,
  initCommand,
  demoCommand,
  emulatorCommand,
  demoAppCommand,
  schemaCommand,
  auditCommand
]
