// The README's first steps as a newcomer pastes them: the two commands, the runtime they bring (no
// engine left unmet), the first configuration (init, export, check), and what getting-started.md
// says the suite needs.
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'

const run = promisify(execFile)
// npm's own range semantics (semver is in the tree through npm's tooling; no types needed for one call)
const semver = createRequire(import.meta.url)('semver') as {
  satisfies(version: string, range: string, options?: object): boolean
}
const ROOT = join(import.meta.dirname, '..', '..')
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8')

/** the shell block that follows a heading of the page */
function blockAfter(text: string, heading: string): string {
  const at = text.indexOf(heading)
  if (at === -1) throw new Error(`no "${heading}" in the page`)
  const block = /```sh\n([\s\S]*?)```/.exec(text.slice(at))
  if (!block) throw new Error(`no shell block after "${heading}"`)
  return block[1]!
}

t.test('the README gives two commands, and CI runs the second as written', async (t) => {
  const commands = blockAfter(read('README.md'), '## Two commands')
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter(Boolean)
  t.same(commands, ['scripts/dev start', 'scripts/dev test'])
  t.match(read('.ci/run'), /^scripts\/dev test 2>&1/m, ".ci/run runs the README's test command")
  t.match(
    read('docs/getting-started.md'),
    blockAfter(read('README.md'), '## Two commands').split('\n')[0]!.split('#')[0]!.trim(),
  )
})

t.test('Node 24 meets the engines of every package the install brings, and the project says so', async (t) => {
  t.equal(process.versions.node.split('.')[0], '24', 'the suite runs on Node 24 (scripts/dev)')
  const lock = JSON.parse(read('package-lock.json')) as {
    packages: Record<string, { engines?: { node?: string } | string[] }>
  }
  const unmet: string[] = []
  for (const [path, pkg] of Object.entries(lock.packages)) {
    const range = !Array.isArray(pkg.engines) ? pkg.engines?.node : undefined
    if (range && !semver.satisfies(process.versions.node, range, { includePrerelease: true }))
      unmet.push(`${path} wants node ${range}`)
  }
  t.same(unmet, [], 'no EBADENGINE on install')
  const own = JSON.parse(read('package.json')) as { engines: { node: string }; private: boolean }
  t.ok(
    semver.satisfies(process.versions.node, own.engines.node),
    `package.json engines (${own.engines.node}) admit Node 24`,
  )
  t.notOk(semver.satisfies('20.20.0', own.engines.node), 'and do not claim Node 20')
  t.equal(own.private, true, 'the clone is not a package to publish')
})

t.test("the README's first configuration works when pasted: init, export, check", async (t) => {
  const block = blockAfter(read('README.md'), '## Your first configuration')
  t.match(block, /init .*--output gateway\.yaml/)
  const dir = mkdtempSync(join(tmpdir(), 'psc-first-steps-'))
  // pasted in a clone, `scripts/dev` is relative to it; here the commands run in an empty folder
  const script = `set -e\n${block.replaceAll('scripts/dev ', `${join(ROOT, 'scripts', 'dev')} `)}`
  const env = { ...process.env }
  delete env.PSC_CLIENT_SECRET
  delete env.SESSION_SECRET
  const { stdout } = await run('bash', ['-c', script], { cwd: dir, env, timeout: 60_000 })
  t.ok(existsSync(join(dir, 'gateway.yaml')), 'init wrote gateway.yaml')
  t.match(stdout, 'gateway.yaml: OK', 'check accepts it once the secrets are exported')
})

t.test(
  'getting-started names every Debian package the preflight checks, and the browser tests there are',
  async (t) => {
    const page = read('docs/getting-started.md')
    const preflight = read('scripts/test-preflight.mjs')
    const needs = /const needs = \{([\s\S]*?)\n\}/.exec(preflight)![1]!
    const packages = [...needs.matchAll(/^\s+'?([a-z0-9-]+)'?: \(\)/gm)].map((m) => m[1]!)
    t.ok(packages.length >= 10, `${packages.length} packages checked`)
    const line = /sudo apt-get install -y --no-install-recommends (.*)/.exec(page)?.[1]?.split(' ') ?? []
    t.same([...line].sort(), [...packages].sort(), "the install line of the page is the preflight's list")
    const browserTests = readdirSync(join(ROOT, 'test', 'e2e')).filter((f) => f.endsWith('.test.ts')).length
    const words = ['zero', 'one', 'two', 'three', 'four', 'five', 'six']
    t.match(page, `${words[browserTests]} browser tests`, `the page counts ${browserTests} browser tests`)
  },
)
