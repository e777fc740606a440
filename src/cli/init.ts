// psc-gateway init: a first configuration, commented, from a few flags. What it writes is loaded
// (with placeholder secrets) before it is written: a configuration `init` produces passes `check`
// once its two secrets are in the environment.
import { existsSync, writeFileSync } from 'node:fs'
import { required, UsageError, type Command } from './command.js'

export interface InitAnswers {
  publicUrl: string
  environment: 'bas' | 'production'
  clientId: string
  upstream: string
  professions?: string[]
  idNat?: string[]
  /** the dénomination registered with ANS (psc.serviceName) */
  serviceName?: string
  /** how many practitioners will use the service (psc.expectedUsers, asked by ANS) */
  users?: number
}

const list = (v: unknown): string[] | undefined =>
  typeof v === 'string'
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined
const quoted = (s: string): string => JSON.stringify(s)

export function initYaml(a: InitAnswers): string {
  const who =
    a.professions || a.idNat
      ? `\n      ${[a.professions && `professions: [${a.professions.map(quoted).join(', ')}]   # TRE_G15 codes, e.g. "10" médecin, "21" pharmacien`, a.idNat && `idNat: [${a.idNat.map(quoted).join(', ')}]`].filter(Boolean).join('\n      ')}`
      : ' authenticated   # any practitioner logged in through PSC'
  return `# psc-gateway configuration, written by \`psc-gateway init\`.
# Check it with:   psc-gateway check --config THIS_FILE
# Every key: docs/configuration.md. Secrets come from the environment (or VAR_FILE, a file that
# holds the value: a Docker or Kubernetes secret), never from this file.

# The address browsers use. https:// in production: the session cookie is then Secure and __Host-.
publicUrl: ${a.publicUrl}

# Where the gateway listens (behind your load balancer or TLS terminator).
listen: { host: 0.0.0.0, port: 8080 }

# Pro Santé Connect. "bas" is ANS's test platform, "production" the real one.
psc:
  environment: ${a.environment}
  clientId: ${quoted(a.clientId)}
  clientSecret: \${PSC_CLIENT_SECRET}   # or PSC_CLIENT_SECRET_FILE=/run/secrets/psc-client-secret
  # What ANS's onboarding form asks (psc-gateway raccordement --config THIS_FILE prints the sheet):
  # the name practitioners read on their phone, and how many of them will use the service.
  ${a.serviceName === undefined ? '# serviceName: "Dossier patient – CH de ..."' : `serviceName: ${quoted(a.serviceName)}`}
  ${a.users === undefined ? '# expectedUsers: 200' : `expectedUsers: ${a.users}`}

session:
  # At least 32 characters each: openssl rand -base64 48. The first signs, all verify (rotation).
  secrets: ["\${SESSION_SECRET}"]
  idleTimeout: 30m
  absoluteTimeout: 8h

# The application(s) behind the gateway. They must be reachable from the gateway only: they trust
# the identity headers (X-PSC-IdNat, X-PSC-RPPS, ...). Add "assertion: { audience: app }" to send a
# signed JWT they can verify instead (docs/assertion.md).
upstreams:
  app:
    url: ${a.upstream}

# First match wins. access: public | authenticated | { professions, categories, specialties, idNat }.
routes:
  - name: application
    upstream: app
    access:${who}
`
}

export const initCommand: Command = {
  name: 'init',
  summary: 'Write a first, commented configuration from a few answers.',
  usage:
    '--public-url URL --client-id ID --upstream URL [--environment bas|production] [--service-name NAME] [--users N] [--professions CODES] [--idnat IDS] [--output FILE]',
  details:
    'Who may enter: any practitioner logged in through PSC, unless --professions (TRE_G15 codes,\ncomma-separated, e.g. 10,21) or --idnat (national ids, comma-separated) narrow it.\nThe file reads PSC_CLIENT_SECRET and SESSION_SECRET from the environment.',
  options: {
    'public-url': {
      type: 'string',
      value: 'URL',
      description: 'the address browsers use, e.g. https://dpi.hopital.fr (required)',
    },
    'client-id': { type: 'string', value: 'ID', description: 'the client id ANS gave you (required)' },
    upstream: {
      type: 'string',
      value: 'URL',
      description: 'the application behind the gateway, e.g. http://10.0.0.12:8080 (required)',
    },
    environment: { type: 'string', value: 'ENV', description: 'bas (ANS test platform, default) or production' },
    professions: { type: 'string', value: 'CODES', description: 'only these professions may enter, e.g. 10,21' },
    idnat: { type: 'string', value: 'IDS', description: 'only these practitioners may enter' },
    'service-name': {
      type: 'string',
      value: 'NAME',
      description: "the service's name as ANS registers it, shown on the practitioner's phone (for raccordement)",
    },
    users: {
      type: 'string',
      value: 'N',
      description: 'how many practitioners will use the service (for raccordement)',
    },
    output: { type: 'string', short: 'o', value: 'FILE', description: 'write to FILE (default: standard output)' },
    force: { type: 'boolean', description: 'overwrite FILE if it exists' },
  },
  async run(args) {
    const environment = (args.values.environment as string | undefined) ?? 'bas'
    if (environment !== 'bas' && environment !== 'production')
      throw new UsageError(`--environment: expected bas or production, got ${quoted(environment)}`, initCommand)
    const answers: InitAnswers = {
      publicUrl: required(args, 'public-url', initCommand).replace(/\/$/, ''),
      environment,
      clientId: required(args, 'client-id', initCommand),
      upstream: required(args, 'upstream', initCommand),
      professions: list(args.values.professions),
      idNat: list(args.values.idnat),
    }
    const serviceName = args.values['service-name'] as string | undefined
    if (serviceName !== undefined) answers.serviceName = serviceName
    const users = args.values.users as string | undefined
    if (users !== undefined) {
      const n = Number(users)
      if (!Number.isInteger(n) || n < 1)
        throw new UsageError(`--users: expected a whole number of at least 1, got ${quoted(users)}`, initCommand)
      answers.users = n
    }
    const yaml = initYaml(answers)
    const output = args.values.output as string | undefined
    const [{ ConfigError }, { loadConfigText }] = await Promise.all([
      import('../config/config-error.js'),
      import('../config/load.js'),
    ])
    try {
      loadConfigText(yaml, output ?? '<init>', {
        PSC_CLIENT_SECRET: 'placeholder',
        SESSION_SECRET: 'placeholder-placeholder-placeholder-0',
      })
    } catch (err) {
      // A flag's value the configuration refuses: the message names the key it went to.
      if (err instanceof ConfigError)
        throw new UsageError(`these answers do not make a valid configuration:\n${err.message}`, initCommand)
      throw err
    }
    if (output === undefined) {
      process.stdout.write(yaml)
      return 0
    }
    if (existsSync(output) && args.values.force !== true)
      throw new UsageError(`${output} exists; add --force to overwrite it`, initCommand)
    writeFileSync(output, yaml, { mode: 0o640 })
    process.stderr.write(
      `wrote ${output}\nnext: export PSC_CLIENT_SECRET=... SESSION_SECRET="$(openssl rand -base64 48)"; psc-gateway check --config ${output}\n`,
    )
    if (answers.serviceName === undefined || answers.users === undefined) {
      process.stderr.write(
        `before the ANS form (psc-gateway raccordement --config ${output}): set psc.serviceName and psc.expectedUsers (or init --service-name NAME --users N)\n`,
      )
    }
    return 0
  },
}
