// `npx psc-gateway ...` as the README writes it, from a fresh clone: npm runs the `prepare` script
// at the end of `npm install`/`npm ci`, which compiles dist/ (the package's bin). The clone borrows
// this worktree's node_modules (a symlink: no registry download in tests) and runs `npm run prepare`
// as npm install would, then the command through npx.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '..', '..')
// a clone, npm and npx on a loaded machine
t.setTimeout(300_000)

t.test('package.json builds on prepare and its bin is the built CLI', async (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    bin: Record<string, string>
    scripts: Record<string, string>
  }
  t.equal(pkg.bin['psc-gateway'], 'dist/cli.js')
  t.equal(pkg.scripts.prepare, 'node scripts/prepare.mjs')
})

t.test("a fresh clone: after npm's prepare step, npx psc-gateway check works", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'psc-clone-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const clone = join(dir, 'psc-gateway')
  await run('git', ['clone', '--quiet', '--no-hardlinks', ROOT, clone])
  t.notOk(existsSync(join(clone, 'dist')), 'a clone has no dist/')
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'))
  const env = { ...process.env, npm_config_update_notifier: 'false', npm_config_offline: 'true' }
  await run('npm', ['run', '--silent', 'prepare'], { cwd: clone, env, timeout: 480_000 })
  t.ok(existsSync(join(clone, 'dist', 'cli.js')), 'prepare built dist/cli.js')
  const help = await run('npx', ['--no-install', 'psc-gateway', 'help'], { cwd: clone, env })
  t.match(help.stdout, /Usage: psc-gateway <command>/)
  t.match(help.stdout, /^ {2}doctor +On the server/m)
  const check = await run('npx', ['--no-install', 'psc-gateway', 'check', '--config', 'config/gateway.example.yaml'], {
    cwd: clone,
    env: { ...env, PSC_CLIENT_SECRET: 'x', SESSION_SECRET: 's'.repeat(40), SESSION_SECRET_PREVIOUS: '' },
  })
  t.match(check.stdout, 'config/gateway.example.yaml: OK')
})
