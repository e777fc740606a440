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
const SECRETS = { PSC_CLIENT_SECRET: 'client-secret-from-ans', SESSION_SECRET: 'a-session-secret-of-at-least-32-characters' }
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
  { args: ['demo-app', '--port', 'eighty'] },
  { args: ['init', '--public-url', 'https://a.fr', '--client-id', 'c', '--upstream', 'http://b:1', '--environment', 'prod'] }
]
const secretRuns = [
  { args: ['init', '--public-url', 'https://dpi.hopital.fr', '--client-id', 'hopital-dpi', '--upstream', 'http://10.0.0.12:8080', '--professions', '10,21', '--output', file] },
  { args: ['check', '--config', file] },
  { args: ['check', '--config', file], env: SECRETS },
  { args: ['check', '--config', file], env: { PSC_CLIENT_SECRET_FILE: join(dir, 'client'), SESSION_SECRET_FILE: join(dir, 'session') } },
  { args: ['init', '--public-url', 'https://a.fr', '--client-id', 'c', '--upstream', 'http://b:1', '-o', file] }
]
let results: CliResult[] = []
t.before(async () => { results = await runCliBatch([...helpRuns, ...mistakeRuns, ...secretRuns]) })

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
  const [version, help, helpCheck, typo, badOption, missingValue, stray, badPort, badEnv] = results.slice(helpRuns.length)
  t.same(version, { code: 0, stdout: `psc-gateway ${pkg.version}\n`, stderr: '' })
  t.match(help!.stdout, /Commands:\n {2}serve/)
  t.match(helpCheck!.stdout, /^Usage: psc-gateway check --config FILE/)
  t.equal(typo!.code, 2)
  t.match(typo!.stderr, /^psc-gateway: unknown command "chek" \(did you mean "check"\?\)/)
  t.equal(badOption!.code, 2)
  t.match(badOption!.stderr, /^psc-gateway check: unknown option "--confg" for check \(did you mean --config\?\)/)
  t.notMatch(badOption!.stderr, /ERR_PARSE_ARGS|TypeError|at .*\.ts:\d+/, 'not Node\'s parser text, no stack')
  t.match(missingValue!.stderr, /--config needs a value \(FILE\)/)
  t.match(stray!.stderr, /check takes no argument, got "config\/gateway.example.yaml" \(did you mean --config config\/gateway.example.yaml\?\)/)
  t.match(badPort!.stderr, /--port: expected a port number \(0-65535\), got "eighty"/)
  t.match(badEnv!.stderr, /--environment: expected bas or production, got "prod"/)
})

t.test('a missing secret names the variable and suggests its _FILE form', async (t) => {
  const [init, noSecrets, withSecrets, fromFiles, again] = results.slice(helpRuns.length + mistakeRuns.length)
  t.equal(init!.code, 0, init!.stderr)
  t.match(readFileSync(file, 'utf8'), /# psc-gateway configuration, written by `psc-gateway init`/, 'commented')
  t.equal(noSecrets!.code, 1)
  t.match(noSecrets!.stderr, /g\.yaml:\d+:\d+: psc\.clientSecret: environment variable PSC_CLIENT_SECRET is not set: set it, or set PSC_CLIENT_SECRET_FILE to the path of a file/)
  t.equal(withSecrets!.code, 0, withSecrets!.stderr)
  t.match(withSecrets!.stdout, /application +\* +\* +\/ +app +professions 10,21/)
  t.equal(fromFiles!.code, 0, 'the _FILE form works as suggested')
  t.equal(again!.code, 2)
  t.match(again!.stderr, /exists; add --force to overwrite it/)
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
