// doctor and raccordement: the two commands that take a configuration to a real PSC.
// Their work is in ops/doctor.ts and ops/raccordement.ts; production-reports.ts prints it.
import { required, UsageError, type Command } from './command.js'

const CONFIG = { type: 'string', short: 'c', value: 'FILE', description: 'the YAML configuration (required)' } as const
const JSON_OUTPUT = { type: 'boolean', description: 'print JSON instead of text' } as const
const LANG = { type: 'string', value: 'LANG', description: 'fr (default) or en: the language of the findings' } as const

/** --lang: French unless English is asked for. */
function languageOf(value: unknown, command: Command): 'fr' | 'en' {
  if (value === undefined || value === 'fr') return 'fr'
  if (value === 'en') return 'en'
  throw new UsageError(`--lang: expected fr or en, got ${JSON.stringify(value)}`, command)
}

export const doctorCommand: Command = {
  name: 'doctor',
  summary:
    'On the server: check DNS, outbound proxy, TLS, discovery, clock, client authentication and certificate against PSC.',
  usage: '--config FILE [--json] [--lang fr|en]',
  details:
    'One line per check with a verdict and what to do, in French (--lang en: in English). Exit code 1 when a check fails.\nNobody is logged in.',
  options: { config: CONFIG, json: JSON_OUTPUT, lang: LANG },
  async run(args) {
    const { doctorCommand: runDoctorCommand } = await import('./production-reports.js')
    const lang = languageOf(args.values.lang, doctorCommand)
    return runDoctorCommand(required(args, 'config', doctorCommand), args.values.json === true, undefined, lang)
  },
}

export const raccordementCommand: Command = {
  name: 'raccordement',
  summary: "What to enter in ANS's onboarding forms for this configuration, with ANS's rules checked.",
  usage: '--config FILE [--json] [--users N] [--lang fr|en]',
  details:
    "Markdown by default, in French as ANS's forms (--lang en: the problems in English): first the Datapass request\n(data, recipients, retention, volume, contacts: the declaration section), then the per-environment form.\nExit code 1 when a value of the form breaks an ANS rule or is missing.",
  options: {
    config: CONFIG,
    json: JSON_OUTPUT,
    lang: LANG,
    users: { type: 'string', value: 'N', description: 'the number of users (instead of psc.expectedUsers)' },
  },
  async run(args) {
    const users = args.values.users
    const { raccordementCommand: runRaccordementCommand } = await import('./production-reports.js')
    const lang = languageOf(args.values.lang, raccordementCommand)
    return runRaccordementCommand(
      required(args, 'config', raccordementCommand),
      args.values.json === true,
      typeof users === 'string' ? users : undefined,
      undefined,
      lang,
    )
  },
}
