// The commands of psc-gateway: adding one is one entry here (and its file in src/cli/).
import { auditCommand } from './audit-command.js'
import type { Command } from './command.js'
import { forwardAuthCommand } from './forward-auth.js'
import { initCommand } from './init.js'
import { checkCommand, serveCommand } from './serve.js'
import { doctorCommand, raccordementCommand } from './production.js'
import { sessionsCommand } from './sessions.js'

const schemaCommand: Command = {
  name: 'schema',
  summary: 'Print the JSON Schema of the configuration file (for editors and CI).',
  usage: '',
  options: {},
  async run() {
    const { configJsonSchemaText } = await import('../config/json-schema.js')
    process.stdout.write(configJsonSchemaText())
    return 0
  },
}

export const COMMANDS: readonly Command[] = [
  serveCommand,
  checkCommand,
  doctorCommand,
  raccordementCommand,
  forwardAuthCommand,
  initCommand,
  schemaCommand,
  auditCommand,
  sessionsCommand,
]
