// The command line as a newcomer meets it: --help that does nothing else, --version, "did you
// mean", clear messages for bad options, a missing secret that points at the _FILE form, init
// whose output passes check, and output piped into head.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { COMMANDS } from '../../src/cli/commands.js'
import { CLI, runCliBatch, runShell, type CliResult } from '../helpers/cli.js'

// Every real process loads TypeScript (seconds on a loaded 2-core machine): few of them, and time.
t.setTimeout(360_000)
const dir = mkdtempSync(join(tmpdir(), 'psc-cli-'))
const SECRETS = {
  PSC_CLIENT_SECRET: 'client-secret-from-ans',
  SESSION_SECRET: 'a-session-secret-of-at-least-32-characters',
}
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

const file = join(dir, 'g.yaml')
writeFileSync(join(dir, 'client'), 'from-a-file\n')
writeFileSync(join(dir, 'session'), `${SECRETS.SESSION_SECRET}\n`)
const helpRuns = COMMANDS.flatMap((c) => [{ args: [c.name, '--help'] }, { args: [c.name, '-h'] }])
const mistakeRuns = [
  { args: ['--version'] },
  { args: [] },
  { args: ['help', 'check'] },
  { args: ['chek', '--config', 'x.yaml'] },
  { args: ['check', '--confg', 'x.yaml'] },
  { args: ['check', '--config'] },
  { args: ['check', 'config/gateway.example.yaml'] },
  { args: ['demo-app', '--port', 'eighty'], dev: true },
  {
    args: [
      'init',
      '--public-url',
      'https://a.fr',
      '--client-id',
      'c',
      '--upstream',
      'http://b:1',
      '--environment',
      'prod',
    ],
  },
  { args: ['emulator'] },
]
const secretRuns = [
  {
    args: [
      'init',
      '--public-url',
      'https://dpi.hopital.fr',
      '--client-id',
      'hopital-dpi',
      '--upstream',
      'http://10.0.0.12:8080',
      '--professions',
      '10,21',
      '--output',
      file,
    ],
  },
  { args: ['check', '--config', file] },
  { args: ['check', '--config', file], env: SECRETS },
  {
    args: ['check', '--config', file],
    env: { PSC_CLIENT_SECRET_FILE: join(dir, 'client'), SESSION_SECRET_FILE: join(dir, 'session') },
  },
  { args: ['init', '--public-url', 'https://a.fr', '--client-id', 'c', '--upstream', 'http://b:1', '-o', file] },
]
const fresh = join(dir, 'fresh.yaml')
const bare = join(dir, 'bare.yaml')
writeFileSync(join(dir, 'invalid.yaml'), 'publicUrl: 12\n')
const firstStepRuns = [
  {
    args: [
      'init',
      '--public-url',
      'https://dpi.hopital.fr',
      '--client-id',
      'hopital-dpi',
      '--upstream',
      'http://10.0.0.12:8080',
      '--service-name',
      'Dossier patient – CH de Test',
      '--users',
      '150',
      '-o',
      fresh,
    ],
  },
  { args: ['raccordement', '--config', fresh], env: SECRETS },
  {
    args: [
      'init',
      '--public-url',
      'https://dpi.hopital.fr',
      '--client-id',
      'hopital-dpi',
      '--upstream',
      'http://10.0.0.12:8080',
      '-o',
      bare,
    ],
  },
  { args: ['init', '--public-url', 'https://a.fr', '--client-id', 'c', '--upstream', 'http://b:1', '--users', 'many'] },
  { args: ['check', '--config', join(dir, 'absent.yaml')] },
  { args: ['check', '--config', join(dir, 'invalid.yaml')] },
  { args: ['serve', '--config', join(dir, 'absent.yaml')] },
]
let results: CliResult[] = []
t.before(async () => {
  results = await runCliBatch([...helpRuns, ...mistakeRuns, ...secretRuns, ...firstStepRuns])
})

t.test('every command has --help (and -h) that prints its usage and starts nothing', async (t) => {
  const runs = helpRuns
  results.slice(0, runs.length).forEach((r, i) => {
    const name = runs[i]!.args[0]!
    t.equal(r.code, 0, `${name} ${runs[i]!.args[1]}: exit 0`)
    t.match(r.stdout, new RegExp(`^Usage: psc-gateway ${name}`), `${name}: its own usage`)
    t.match(r.stdout, /--help/)
    t.equal(r.stderr, '')
  })
})

t.test('--version, help, and mistakes', async (t) => {
  const [version, help, helpCheck, typo, badOption, missingValue, stray, badPort, badEnv, productEmulator] =
    results.slice(helpRuns.length)
  t.same(version, { code: 0, stdout: `psc-gateway ${pkg.version}\n`, stderr: '' })
  t.match(help!.stdout, /Commands:\n {2}serve/)
  t.match(helpCheck!.stdout, /^Usage: psc-gateway check --config FILE/)
  t.equal(typo!.code, 2)
  t.match(typo!.stderr, /^psc-gateway: unknown command "chek" \(did you mean "check"\?\)/)
  t.equal(badOption!.code, 2)
  t.match(badOption!.stderr, /^psc-gateway check: unknown option "--confg" for check \(did you mean --config\?\)/)
  t.notMatch(badOption!.stderr, /ERR_PARSE_ARGS|TypeError|at .*\.ts:\d+/, "not Node's parser text, no stack")
  t.match(missingValue!.stderr, /--config needs a value \(FILE\)/)
  t.match(
    stray!.stderr,
    /check takes no argument, got "config\/gateway.example.yaml" \(did you mean --config config\/gateway.example.yaml\?\)/,
  )
  t.match(badPort!.stderr, /--port: expected a port number \(0-65535\), got "eighty"/)
  t.match(badEnv!.stderr, /--environment: expected bas or production, got "prod"/)
  // the emulator and the demo are dev/cli.ts's: the product's command line does not offer them
  t.equal(productEmulator!.code, 2)
  t.match(productEmulator!.stderr, /^psc-gateway: unknown command "emulator"/)
  t.notMatch(help!.stdout, /^ {2}(demo|emulator|demo-app) /m, "the product's help lists no development command")
})

t.test('a missing secret names the variable and suggests its _FILE form', async (t) => {
  const [init, noSecrets, withSecrets, fromFiles, again] = results.slice(helpRuns.length + mistakeRuns.length)
  t.equal(init!.code, 0, init!.stderr)
  t.match(readFileSync(file, 'utf8'), /# psc-gateway configuration, written by `psc-gateway init`/, 'commented')
  t.equal(noSecrets!.code, 1)
  t.match(
    noSecrets!.stderr,
    /g\.yaml:\d+:\d+: psc\.clientSecret: environment variable PSC_CLIENT_SECRET is not set: set it, or set PSC_CLIENT_SECRET_FILE to the path of a file/,
  )
  t.equal(withSecrets!.code, 0, withSecrets!.stderr)
  t.match(withSecrets!.stdout, /application +\* +\* +\/ +app +professions 10,21/)
  t.equal(fromFiles!.code, 0, 'the _FILE form works as suggested')
  t.equal(again!.code, 2)
  t.match(again!.stderr, /exists; add --force to overwrite it/)
})

t.test('init asks what raccordement needs: a fresh file with --service-name and --users passes it', async (t) => {
  const [init, raccordement, bareInit, badUsers] = results.slice(
    helpRuns.length + mistakeRuns.length + secretRuns.length,
  )
  t.equal(init!.code, 0, init!.stderr)
  const yaml = readFileSync(fresh, 'utf8')
  t.match(yaml, /^ {2}serviceName: "Dossier patient – CH de Test"$/m)
  t.match(yaml, /^ {2}expectedUsers: 150$/m)
  t.equal(raccordement!.code, 0, raccordement!.stdout)
  t.match(raccordement!.stdout, "| Nombre d'utilisateurs | 150 |")
  t.match(raccordement!.stdout, 'Aucun problème')
  t.equal(bareInit!.code, 0)
  t.match(readFileSync(bare, 'utf8'), /^ {2}# serviceName: /m, 'without the flags: the keys are there, commented')
  t.match(bareInit!.stderr, /set psc\.serviceName and psc\.expectedUsers \(or init --service-name NAME --users N\)/)
  t.equal(badUsers!.code, 2)
  t.match(badUsers!.stderr, /--users: expected a whole number of at least 1, got "many"/)
})

t.test('check starts nothing and says so; a missing file is named, not ENOENT', async (t) => {
  const [missing, invalid, serveMissing] = results.slice(helpRuns.length + mistakeRuns.length + secretRuns.length + 4)
  t.equal(missing!.code, 1)
  t.equal(missing!.stderr, `psc-gateway: file not found: ${join(dir, 'absent.yaml')}\n`)
  t.equal(invalid!.code, 1)
  t.match(invalid!.stderr, /^psc-gateway: invalid configuration:\n.*invalid\.yaml:1/)
  t.notMatch(invalid!.stderr, /not starting/, 'check starts nothing')
  t.equal(serveMissing!.code, 1)
  t.equal(serveMissing!.stderr, `psc-gateway: file not found: ${join(dir, 'absent.yaml')} (not starting)\n`)
})

t.test('real processes: exit codes, and output piped into head', async (t) => {
  const head = await runShell(`${CLI} schema | head -1`)
  t.equal(head.code, 0, `no EPIPE crash: ${head.stderr}`)
  t.equal(head.stdout, '{\n')
  t.equal(head.stderr, '')
  // A reader gone before the first write (true reads nothing): plain Node dies of EPIPE here.
  const gone = await runShell(`${CLI} schema | true`)
  t.equal(gone.code, 0, `reader gone before the write: ${gone.stderr}`)
  t.equal(gone.stderr, '')
  const wrong = await runShell(`${CLI} serve --confg x.yaml`)
  t.equal(wrong.code, 2)
  t.match(wrong.stderr, /did you mean --config/)
})
