// A corporate CA for npm inside `docker build`: the Dockerfile's npm stages take NPM_CONFIG_CA,
// and the value docs/deployment.md shows for it is one npm takes: its command substitution is run
// on a CA of the test's own, and npm, with only that in its environment, fetches from a registry
// served over HTTPS with a certificate from that CA (and refuses without it).
import { execFile } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { makeTestPki } from '../helpers/pki.js'
import { parseDockerfile } from './dockerfile.js'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '..', '..')

t.test('every Dockerfile stage that runs npm declares NPM_CONFIG_CA', async (t) => {
  const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))
  const npmStages = dockerfile.stages.filter((s) =>
    s.instructions.some((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args)),
  )
  t.ok(npmStages.length >= 2, `${npmStages.length} stages run npm ci`)
  for (const stage of npmStages) {
    const firstNpm = stage.instructions.findIndex((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args))
    const declared = stage.instructions
      .slice(0, firstNpm)
      .some((i) => i.op === 'ARG' && /^NPM_CONFIG_CA\b/.test(i.args))
    t.ok(declared, `a stage declares ARG NPM_CONFIG_CA before its npm ci`)
  }
})

t.test('the documented build argument makes npm trust the corporate CA', async (t) => {
  const doc = readFileSync(join(ROOT, 'docs', 'deployment.md'), 'utf8')
  const line = /--build-arg NPM_CONFIG_CA="\$\((.+)\)"/.exec(doc)
  t.ok(line, 'docs/deployment.md shows --build-arg NPM_CONFIG_CA="$(...)"')
  if (!line) return
  const pki = makeTestPki()
  t.teardown(() => pki.close())
  const dir = mkdtempSync(join(tmpdir(), 'psc-build-ca-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = /(\S+\.pem)/.exec(line[1]!)![1]!
  copyFileSync(pki.caFile, join(dir, file))
  // The command substitution as the shell runs it in the documented line.
  const { stdout: ca } = await run('sh', ['-c', `printf '%s' "$(${line[1]!})"`], { cwd: dir })
  t.match(ca, /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----$/, 'the PEM text')

  const packument = {
    name: 'psc-corporate-ca-probe',
    'dist-tags': { latest: '4.5.6' },
    versions: {
      '4.5.6': {
        name: 'psc-corporate-ca-probe',
        version: '4.5.6',
        dist: { tarball: 'https://127.0.0.1/x.tgz', shasum: '0' },
      },
    },
  }
  const registry = createServer({ cert: pki.serverCert, key: pki.serverKey }, (_req, res) => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(packument))
  })
  await new Promise<void>((r) => registry.listen(0, '127.0.0.1', r))
  t.teardown(() => registry.close())
  const url = `https://127.0.0.1:${(registry.address() as AddressInfo).port}/`
  const userconfig = join(dir, 'npmrc')
  writeFileSync(userconfig, '')
  // Only what the build stage would have: no proxy, no CA of this machine's environment.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    npm_config_userconfig: userconfig,
    npm_config_cache: join(dir, 'cache'),
    npm_config_registry: url,
    npm_config_update_notifier: 'false',
    npm_config_fetch_retries: '0',
    NO_PROXY: '127.0.0.1',
  }
  const view = (extra: NodeJS.ProcessEnv) =>
    run('npm', ['view', 'psc-corporate-ca-probe', 'version', '--prefer-online'], {
      cwd: dir,
      env: { ...env, ...extra },
    })
  const refused = await view({}).then(
    () => 'fetched',
    (e: { stderr?: string }) => e.stderr ?? '',
  )
  t.match(
    refused,
    /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/,
    'without the CA npm refuses the registry',
  )
  const { stdout } = await view({ NPM_CONFIG_CA: ca })
  t.equal(stdout.trim(), '4.5.6', 'with NPM_CONFIG_CA from the documented line npm fetches')
})
