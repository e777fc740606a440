// scripts/image-smoke.sh needs a Docker daemon, which the test machines do not have: its parts
// that decide something are run here on their own, in bash, with `docker` replaced by a function
// that records what it is asked. The ports come from the environment when given (checked), and
// the clean-up removes the dangling images the build made, not those that were there before.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'

const run = promisify(execFile)
const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'image-smoke.sh')
const text = readFileSync(SCRIPT, 'utf8')

/** the definition of a shell function of the script, one line or up to its closing brace */
function fn(name: string): string {
  const start = text.indexOf(`\n${name}() {`)
  if (start === -1) throw new Error(`scripts/image-smoke.sh has no function ${name}`)
  const rest = text.slice(start + 1)
  const firstLine = rest.slice(0, rest.indexOf('\n'))
  if (firstLine.trimEnd().endsWith('}')) return firstLine
  return rest.slice(0, rest.indexOf('\n}\n') + 2)
}

const bash = (script: string, env: Record<string, string> = {}) =>
  run(
    'bash',
    ['-c', `set -euo pipefail\nfail() { printf 'FAIL: %s\\n' "$*" >&2; exit 1; }\npass() { :; }\n${script}`],
    { env: { PATH: process.env.PATH, ...env } },
  )

t.test('the script parses', async (t) => {
  await run('bash', ['-n', SCRIPT])
  t.pass('bash -n')
})

t.test('ports: GW_PORT, ADMIN_PORT, EMU_PORT, APP_PORT when given, else free ones', async (t) => {
  const assign = /^GW_PORT=\$\(.*\n.*APP_PORT=\$\(.*$/m.exec(text)?.[0]
  t.ok(assign, 'the four ports are assigned together')
  const script = `${fn('free_port')}\n${fn('port_or_free')}\n${assign}\necho "$GW_PORT $ADMIN_PORT $EMU_PORT $APP_PORT"`
  const given = await bash(script, { GW_PORT: '18080', ADMIN_PORT: '19090', EMU_PORT: '18443', APP_PORT: '18081' })
  t.equal(given.stdout.trim(), '18080 19090 18443 18081', 'the ports given')
  const free = (await bash(script)).stdout.trim().split(' ').map(Number)
  t.equal(free.length, 4)
  t.ok(
    free.every((p) => p > 1024 && p < 65536),
    `free ports: ${free.join(', ')}`,
  )
  const partly = (await bash(script, { ADMIN_PORT: '19191' })).stdout.trim().split(' ')
  t.equal(partly[1], '19191', 'one given, the others free')
  const wrong = await bash(script, { GW_PORT: 'http' }).then(
    () => '',
    (e: { stderr: string }) => e.stderr,
  )
  t.match(wrong, /FAIL: not a port: http/)
})

t.test('clean-up: the dangling images the build made are removed, the others kept', async (t) => {
  const stub = `docker() {
  case "$1 $2" in
    "images -q") printf '%s\\n' $DANGLING ;;
    "image rm") shift 2; echo "removed $*" >>"$LOG" ;;
  esac
}`
  const script = `LOG="$(mktemp)"\n${stub}\nDANGLING="aaa bbb"\nDANGLING_BEFORE="$(docker images -q --filter dangling=true | sort -u)"\n${fn('build_cleanup')}\nDANGLING="aaa bbb ccc ddd"\nbuild_cleanup\ncat "$LOG"; rm -f "$LOG"`
  t.equal((await bash(script)).stdout.trim(), 'removed ccc ddd', 'only the two made by the build')
  t.equal((await bash(script, { KEEP: '1' })).stdout.trim(), '', 'KEEP=1 keeps them')
  t.equal(
    (await bash(script.replace('DANGLING="aaa bbb ccc ddd"', 'DANGLING="aaa bbb"'))).stdout.trim(),
    '',
    'nothing made, nothing removed',
  )
  t.match(fn('cleanup'), /build_cleanup/, 'the exit clean-up runs it')
})
