// doctor and raccordement: the two commands that take a configuration to a real PSC (issue 11).
// Their work is in ops/doctor.ts, ops/raccordement.ts and ops/production-commands.ts.
import { required, type Command } from './command.js'

const CONFIG = { type: 'string', short: 'c', value: 'FILE', description: 'the YAML configuration (required)' } as const
const JSON_OUTPUT = { type: 'boolean', description: 'print JSON instead of text' } as const

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'On the server: check DNS, outbound proxy, TLS, discovery, clock, client authentication and certificate against PSC.',
  usage: '--config FILE [--json]',
  details: 'One line per check with a verdict and what to do. Exit code 1 when a check fails. Nobody is logged in.',
  options: { config: CONFIG, json: JSON_OUTPUT },
  async run(args) {
    const { doctorCommand: runDoctorCommand } = await import('../ops/production-commands.js')
    return runDoctorCommand(required(args, 'config', doctorCommand), args.values.json === true)
  }
}

export const raccordementCommand: Command = {
  name: 'raccordement',
  summary: 'What to enter in ANS\'s onboarding forms for this configuration, with ANS\'s rules checked.',
  usage: '--config FILE [--json] [--users N]',
  details: 'Markdown by default. Exit code 1 when a value breaks an ANS rule or is missing.',
  options: { config: CONFIG, json: JSON_OUTPUT, users: { type: 'string', value: 'N', description: 'the number of users (instead of psc.expectedUsers)' } },
  async run(args) {
    const users = args.values.users
    const { raccordementCommand: runRaccordementCommand } = await import('../ops/production-commands.js')
    return runRaccordementCommand(required(args, 'config', raccordementCommand), args.values.json === true, typeof users === 'string' ? users : undefined)
  }
}
