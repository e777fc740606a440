// The commands of psc-gateway: adding one is one entry here (and its file in src/cli/).
import { AUDIT_USAGE, runAuditCommand, type AuditCommandOptions } from '../audit/tools/commands.js'
import type { Command } from './command.js'
import { forwardAuthCommand } from './forward-auth.js'
import { initCommand } from './init.js'
import { checkCommand, serveCommand } from './serve.js'
import { doctorCommand, raccordementCommand } from './production.js'

const schemaCommand: Command = {
  name: 'schema',
  summary: 'Print the JSON Schema of the configuration file (for editors and CI).',
  usage: '',
  options: {},
  async run() {
    const { configJsonSchemaText } = await import('../config/json-schema.js')
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
    'key-env': { type: 'string', multiple: true, value: 'NAME', description: 'verify: a variable that holds an HMAC key (default AUDIT_HMAC_KEY; repeat for several keys)' },
    'key-file': { type: 'string', multiple: true, value: 'F', description: 'verify: a file that holds an HMAC key (repeat for several keys)' },
    'expect-head': { type: 'string', value: 'SEQ:MAC', description: 'verify: the chain head last seen elsewhere (syslog, log): proves nothing was cut or replaced' },
    'keep-order': { type: 'boolean', description: 'verify: check the files in the order given instead of chain order' },
    client: { type: 'string', value: 'ADDR', description: 'query: this client address' },
    session: { type: 'string', value: 'REF', description: 'query: this session reference' },
    'path-prefix': { type: 'string', value: 'P', description: 'query: paths under P (whole segments)' },
    status: { type: 'string', value: 'S', description: 'query: this status, or a class like 4xx' },
    verify: { type: 'boolean', description: 'query: check the chain while querying' },
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
  doctorCommand,
  raccordementCommand,
  forwardAuthCommand,
  initCommand,
  schemaCommand,
  auditCommand
]
