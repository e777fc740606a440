// `check` (and every start) refuses what issue 13 found accepted: an audit file in a directory
// that does not exist or cannot be written, an http publicUrl with production PSC, profession codes
// outside TRE_G15 (unless allowed); syslog settings checked the same way. Reload events say what
// changed; every access event carries the short hash of the configuration in force.
import t from 'tap'
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { ConfigError } from '../../src/config/config-error.js'
import { loadConfigText } from '../../src/config/load.js'
import { configHash, describeConfigChanges } from '../../src/config/changes.js'
import { startStack } from '../helpers/stack.js'
import { assertAuditLines } from './schema-lines.js'
import { TYPESCRIPT_NODE_ARGS } from '../helpers/typescript-node.js'

const ROOT = join(import.meta.dirname, '..', '..')
const dir = mkdtempSync(join(tmpdir(), 'audit-config-'))
const ENV = { SECRET: 'x'.repeat(40), KEY: 'k'.repeat(40) }

const base = (
  o: {
    publicUrl?: string
    environment?: string
    professions?: string
    extraPsc?: string
    audit?: string
    routesTail?: string
  } = {},
) => `publicUrl: ${o.publicUrl ?? 'https://dpi.example.fr'}
psc:
  environment: ${o.environment ?? 'bas'}
  clientId: c
  clientSecret: s
${o.extraPsc ?? ''}session:
  secrets: ["\${SECRET}"]
upstreams:
  dpi: { url: "http://dpi.internal:8080" }
routes:
  - name: pharmacie
    match: { pathPrefix: /pharmacie }
    upstream: dpi
    access: { professions: [${o.professions ?? '"21"'}] }
${o.routesTail ?? ''}${o.audit ?? ''}`

function issues(text: string): string[] {
  try {
    loadConfigText(text, 'gateway.yaml', ENV)
    return []
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    return err.message.split('\n')
  }
}

t.test(
  'an audit file whose directory does not exist or cannot be written is refused, with the key and line',
  async (t) => {
    const missing = issues(base({ audit: `audit:\n  file: ${join(dir, 'nope', 'audit.log')}\n  hmacKey: "\${KEY}"\n` }))
    t.match(
      missing.join('\n'),
      /gateway\.yaml:\d+:\d+: audit\.file: the directory .*nope does not exist \(ENOENT\); create it, writable by the gateway's user/,
    )
    const locked = join(dir, 'locked')
    spawnSync('mkdir', [locked])
    chmodSync(locked, 0o500)
    // root writes anywhere: run the check as nobody when we are root, as the gateway's user would be
    const asNobody = process.getuid?.() === 0
    if (asNobody) {
      const yaml = join(dir, 'locked.yaml')
      writeFileSync(
        yaml,
        base({ audit: `audit:\n  file: ${join(locked, 'audit.log')}\n  hmacKey: "${ENV.KEY}"\n` }).replace(
          '${SECRET}',
          ENV.SECRET,
        ),
      )
      chmodSync(dir, 0o755)
      chmodSync(yaml, 0o644)
      const r = spawnSync(
        'setpriv',
        [
          '--reuid=65534',
          '--regid=65534',
          '--clear-groups',
          process.execPath,
          ...TYPESCRIPT_NODE_ARGS,
          join(ROOT, 'src', 'cli.ts'),
          'check',
          '--config',
          yaml,
        ],
        { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
      )
      t.equal(r.status, 1, 'check exits 1')
      t.match(
        r.stderr,
        /audit\.file: the directory .*locked is not writable by this user: the audit file cannot be created/,
      )
    } else {
      t.match(
        issues(base({ audit: `audit:\n  file: ${join(locked, 'audit.log')}\n  hmacKey: "\${KEY}"\n` })).join('\n'),
        /is not writable by this user/,
      )
    }
    t.same(
      issues(base({ audit: `audit:\n  file: ${join(dir, 'audit.log')}\n  hmacKey: "\${KEY}"\n` })),
      [],
      'a writable directory is fine',
    )
  },
)

t.test(
  'http publicUrl with environment production is refused; profession codes outside TRE_G15 unless allowed',
  async (t) => {
    t.match(
      issues(base({ publicUrl: 'http://dpi.example.fr', environment: 'production' })).join('\n'),
      /publicUrl: publicUrl is http:\/\/ with psc\.environment production/,
    )
    t.same(
      issues(base({ publicUrl: 'http://dpi.example.fr', environment: 'bas' })),
      [],
      'BAS (test) still allows it, with a warning',
    )
    const unknown = issues(base({ professions: '"21", "99"' })).join('\n')
    t.match(unknown, /routes\[0\]\.access\.professions\[1\]: "99" is not a TRE_G15 profession code/)
    t.match(unknown, /psc\.allowUnknownProfessions: true/)
    t.same(
      issues(base({ professions: '"21", "99"', extraPsc: '  allowUnknownProfessions: true\n' })),
      [],
      'explicitly allowed',
    )
  },
)

t.test('syslog settings: files read at load, errors name the key', async (t) => {
  const ca = join(dir, 'ca.pem')
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n')
  const ok = loadConfigText(
    base({ audit: `audit:\n  syslog: { host: siem.example.fr, caFile: ${ca} }\n` }),
    'gateway.yaml',
    ENV,
  ).config
  t.match(ok.audit.syslog, {
    transport: 'tls',
    host: 'siem.example.fr',
    port: 6514,
    facility: 13,
    appName: 'psc-gateway',
    onBackpressure: 'block',
    caFile: ca,
  })
  t.match(
    issues(base({ audit: `audit:\n  syslog: { host: siem, caFile: ${join(dir, 'missing.pem')} }\n` })).join('\n'),
    /audit\.syslog\.caFile: cannot read .*missing\.pem: ENOENT/,
  )
  t.match(
    issues(base({ audit: 'audit:\n  syslog: { transport: udp, host: siem, caFile: /etc/hostname }\n' })).join('\n'),
    /audit\.syslog\.caFile: caFile applies to transport tls only/,
  )
  t.equal(
    loadConfigText(base({ audit: 'audit:\n  syslog: { transport: udp, host: siem }\n' }), 'gateway.yaml', ENV).config
      .audit.syslog?.port,
    514,
  )
})

t.test(
  'describeConfigChanges: routes added, removed, changed (rule or order); upstreams; headers; names only',
  async (t) => {
    const load = (text: string) => loadConfigText(text, 'gateway.yaml', ENV).config
    const before = load(base({ routesTail: '  - name: all\n    upstream: dpi\n    access: authenticated\n' }))
    const after = load(
      base({
        professions: '"21", "10"',
        routesTail: '  - name: public\n    match: { pathPrefix: /public }\n    upstream: dpi\n    access: public\n',
      }).replace(
        'dpi: { url: "http://dpi.internal:8080" }',
        'dpi: { url: "http://dpi.internal:9090", headers: { X-Secret: "s3cr3t-value" } }\n  labo: { url: "http://labo:80" }',
      ),
    )
    const changes = describeConfigChanges(before, after)
    t.same(changes, {
      routesAdded: ['public'],
      routesRemoved: ['all'],
      routesChanged: ['pharmacie'],
      upstreamsAdded: ['labo'],
      upstreamsRemoved: [],
      upstreamsChanged: ['dpi'],
      headersChanged: false,
      other: [],
    })
    t.notOk(JSON.stringify(changes).includes('s3cr3t'), 'never a value')
    t.same(describeConfigChanges(before, before).routesChanged, [])
    t.match(configHash(before), /^[0-9a-f]{12}$/)
    t.not(configHash(before), configHash(after))
    t.equal(
      configHash(before),
      configHash({ ...before, source: 'elsewhere.yaml' }),
      'the file name is not the configuration',
    )
  },
)

t.test(
  'the gateway: access events carry the config hash; a reload event lists what changed and the new hash',
  async (t) => {
    const stack = await startStack({})
    t.teardown(() => stack.close())
    await (await fetch(`${stack.url}/public/x`)).arrayBuffer()
    type E = { event: string; outcome?: string; configHash?: string; changes?: unknown }
    const loaded = (stack.audit as E[]).find((e) => e.event === 'config' && e.outcome === 'loaded')!
    const first = (stack.audit as E[]).filter((e) => e.event === 'access')
    t.match(loaded.configHash, /^[0-9a-f]{12}$/)
    t.ok(
      first.length > 0 && first.every((e) => e.configHash === loaded.configHash),
      'access events name the configuration that decided them',
    )
    const next = { ...stack.config, routes: stack.config.routes.filter((r) => r.name !== 'admin') }
    const r = stack.gateway.reloadFrom(() => next)
    t.same(r, { ok: true })
    const reloaded = (stack.audit as E[]).find((e) => e.event === 'config' && e.outcome === 'reloaded')!
    t.match(reloaded, {
      changes: { routesRemoved: ['admin'], routesAdded: [], routesChanged: [], headersChanged: false },
    })
    t.not(reloaded.configHash, loaded.configHash)
    await (await fetch(`${stack.url}/public/y`)).arrayBuffer()
    const last = (stack.audit as E[]).filter((e) => e.event === 'access').at(-1)!
    t.equal(last.configHash, reloaded.configHash, 'after the reload, the new hash')
    assertAuditLines(t, stack.audit)
  },
)
