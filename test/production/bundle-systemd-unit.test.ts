// The systemd unit the VM install uses (deploy/systemd/psc-gateway.service): `systemd-analyze verify`
// finds nothing to say, the hardening the docs promise is in it, and `systemd-analyze security`
// (offline, no running systemd needed) rates its exposure below a threshold.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { parse } from 'yaml'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '..', '..')
const UNIT = readFileSync(join(ROOT, 'deploy', 'systemd', 'psc-gateway.service'), 'utf8')
const INSTALLED_NODE = '/opt/psc-gateway/current/node/bin/node'
/** exposure as systemd-analyze prints it (0.0 best, 10.0 worst): "OK" is below 4.0 */
const MAX_EXPOSURE = 2.0

const dir = mkdtempSync(join(tmpdir(), 'psc-unit-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

/** The unit with the bundle's node path pointed at a node that exists here: verify checks ExecStart. */
function writeUnit(text: string, name = 'psc-gateway.service'): string {
  const file = join(dir, name)
  writeFileSync(file, text.replaceAll(INSTALLED_NODE, process.execPath))
  return file
}

function directives(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>()
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line)
    if (m) map.set(m[1]!, [...(map.get(m[1]!) ?? []), m[2]!])
  }
  return map
}

t.test('systemd-analyze verify accepts the unit without a word', async (t) => {
  const { stdout, stderr } = await run('systemd-analyze', ['verify', writeUnit(UNIT)])
  t.equal(`${stdout}${stderr}`, '', 'no warning')
  // verify exits 0 on a misspelt value and only says so: the test reads what it says
  const bad = writeUnit(UNIT.replace('ProtectSystem=strict', 'ProtectSystem=strikt'), 'bad.service')
  const r = await run('systemd-analyze', ['verify', bad])
  t.match(`${r.stdout}${r.stderr}`, /ProtectSystem|protect system/i, 'a broken directive would be seen')
})

t.test('the unit is hardened as docs/vm.md says', async (t) => {
  const d = directives(UNIT)
  const one = (k: string) => d.get(k)?.at(-1)
  t.equal(one('User'), 'psc-gateway', 'dedicated user')
  t.equal(one('ProtectSystem'), 'strict')
  t.equal(one('NoNewPrivileges'), 'yes')
  t.equal(one('PrivateTmp'), 'yes')
  t.equal(one('CapabilityBoundingSet'), '', 'no capability (ports above 1024)')
  t.same(d.get('SystemCallFilter')?.[0], '@system-service')
  t.equal(one('RestrictAddressFamilies'), 'AF_INET AF_INET6 AF_UNIX')
  t.not(one('MemoryDenyWriteExecute'), 'yes', "V8's JIT needs writable executable memory")
  t.match(UNIT, /MemoryDenyWriteExecute=yes is NOT set: Node's V8 JIT/, 'the unit says why')
  // The only writable directory is the one the example configuration writes its audit file to.
  const example = parse(readFileSync(join(ROOT, 'deploy', 'gateway.vm.example.yaml'), 'utf8'))
  const writable = one('ReadWritePaths')!
  t.ok(example.audit.file.startsWith(`${writable}/`), `the audit file ${example.audit.file} is under ${writable}`)
  t.match(one('ExecStart'), /dist\/cli\.js serve --config \/etc\/psc-gateway\/gateway\.yaml$/)
})

t.test('systemd-analyze security rates the unit below the threshold', async (t) => {
  const file = writeUnit(UNIT)
  const { stdout } = await run('systemd-analyze', ['security', '--offline=yes', '--no-pager', file])
  const exposure = Number(/Overall exposure level for psc-gateway\.service: ([\d.]+)/.exec(stdout)?.[1])
  t.ok(exposure <= MAX_EXPOSURE, `exposure ${exposure} <= ${MAX_EXPOSURE}`)
  // the same unit without its hardening scores far worse: the measure would see a regression
  const bare = UNIT.split('\n')
    .filter((l) => /^(\[|Description|ExecStart|User|Group|Type|WantedBy)/.test(l))
    .join('\n')
  const loose = await run('systemd-analyze', [
    'security',
    '--offline=yes',
    '--no-pager',
    writeUnit(bare, 'loose.service'),
  ])
  const looseExposure = Number(/Overall exposure level for loose\.service: ([\d.]+)/.exec(loose.stdout)?.[1])
  t.ok(looseExposure > MAX_EXPOSURE, `an unhardened unit scores ${looseExposure}`)
})
