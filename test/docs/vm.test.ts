// docs/vm.md, run as far as a machine without systemd allows: the offline bundle is built, then the
// page's `sh runnable` blocks run in order in a temporary root (/etc/psc-gateway, /opt/psc-gateway
// and /var/lib/psc-gateway point into it; sudo runs the command, useradd, chown and systemctl do
// nothing), up to `check` accepting the installed configuration with the page's TLS files.
import { execFile } from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { makeTestPki } from '../helpers/pki.js'
import { sharedBundle } from '../helpers/shared-bundle.js'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '..', '..')
const PAGE = readFileSync(join(ROOT, 'docs', 'vm.md'), 'utf8')
const PLACES = ['/etc/psc-gateway', '/opt/psc-gateway', '/var/lib/psc-gateway']
t.setTimeout(480_000) // the bundle: a build, npm ci --omit=dev, a compressed Node binary

/** The shell blocks of the page, in order, with whether they are marked runnable. */
function shellBlocks(markdown: string): { runnable: boolean; text: string }[] {
  return [...markdown.matchAll(/^```sh( runnable)?\n([\s\S]*?)^```$/gm)].map((m) => ({
    runnable: m[1] !== undefined,
    text: m[2]!,
  }))
}

const work = mkdtempSync(join(tmpdir(), 'psc-vm-doc-'))
t.teardown(() => rmSync(work, { recursive: true, force: true }))
const pki = makeTestPki()
t.teardown(() => pki.close())

t.test('the page marks its installation steps runnable', async (t) => {
  const blocks = shellBlocks(PAGE)
  const runnable = blocks.filter((b) => b.runnable).map((b) => b.text)
  t.ok(runnable.length >= 7, `${runnable.length} runnable blocks`)
  for (const step of [
    'useradd',
    'mkdir -p',
    'tar -xzf',
    'gateway.example.yaml',
    'secrets.env',
    'fullchain.pem',
    ' check --config',
    'psc-gateway.service',
  ])
    t.ok(
      runnable.some((b) => b.includes(step)),
      `a runnable block does ${step.trim()}`,
    )
  t.match(PAGE, /MemoryDenyWriteExecute[\s\S]{0,80}not set/, 'the page says why MemoryDenyWriteExecute is off')
})

t.test('the runnable blocks install the bundle and pass check in a temporary root', async (t) => {
  const root = join(work, 'root')
  const here = join(work, 'here') // where the operator copied the archive and the certificate
  const stubs = join(work, 'stubs')
  for (const d of [root, here, stubs]) mkdirSync(d, { recursive: true })
  // built once for this file and test/production/bundle.test.ts (the same `npm run bundle`); the
  // operator copied the archive here
  const { stdout, archive } = await sharedBundle(420_000)
  t.match(stdout, /\.tar\.gz/)
  copyFileSync(archive, join(here, basename(archive)))
  const server = pki.issueServer('vm-doc', 60)
  copyFileSync(server.certFile, join(here, 'fullchain.pem'))
  copyFileSync(server.keyFile, join(here, 'privkey.pem'))
  // sudo runs the command (options dropped); what needs a real system does nothing
  writeFileSync(
    join(stubs, 'sudo'),
    '#!/bin/sh\nwhile [ "${1#-}" != "$1" ]; do case "$1" in -u) shift 2 ;; *) shift ;; esac; done\nexec "$@"\n',
  )
  for (const name of ['useradd', 'chown', 'systemctl']) writeFileSync(join(stubs, name), '#!/bin/sh\nexit 0\n')
  for (const name of ['sudo', 'useradd', 'chown', 'systemctl']) chmodSync(join(stubs, name), 0o755)
  mkdirSync(join(root, 'etc', 'systemd', 'system'), { recursive: true })

  const inRoot = (text: string) => {
    let s = text
    for (const p of PLACES) s = s.replaceAll(p, `${root}${p}`)
    return s.replaceAll('/etc/systemd/system', `${root}/etc/systemd/system`)
  }
  const env = { PATH: `${stubs}:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: work, npm_config_registry: 'http://127.0.0.1:9' }
  let checkOutput = ''
  let configPlaced = false
  for (const [i, block] of shellBlocks(PAGE)
    .filter((b) => b.runnable)
    .entries()) {
    try {
      const r = await run('sh', ['-e', '-c', inRoot(block.text)], { cwd: here, env })
      if (block.text.includes(' check --config')) checkOutput = r.stdout + r.stderr
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string }
      t.fail(`runnable block ${i + 1} failed:\n${block.text}\n${e.stdout ?? ''}${e.stderr ?? ''}`)
      return
    }
    // The copied configuration names the real places; the temporary root stands for them.
    const yaml = join(root, 'etc', 'psc-gateway', 'gateway.yaml')
    if (!configPlaced && existsSync(yaml)) {
      writeFileSync(yaml, inRoot(readFileSync(yaml, 'utf8')))
      configPlaced = true
    }
  }
  t.ok(
    existsSync(join(root, 'opt', 'psc-gateway', 'current', 'bin', 'psc-gateway')),
    'the bundle is installed under current/',
  )
  t.match(
    readFileSync(join(root, 'etc', 'psc-gateway', 'secrets.env'), 'utf8'),
    /^SESSION_SECRET=.{40,}$/m,
    'a generated session secret',
  )
  t.ok(readdirSync(join(root, 'etc', 'psc-gateway', 'tls')).includes('privkey.pem'))
  t.ok(existsSync(join(root, 'etc', 'systemd', 'system', 'psc-gateway.service')), 'the unit is in place')
  t.ok(existsSync(join(root, 'var', 'lib', 'psc-gateway', 'audit')), 'the audit directory')
  t.match(checkOutput, /gateway\.yaml: OK/, 'check accepts the installed configuration')
})
