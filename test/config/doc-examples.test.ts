// Every YAML configuration example in README.md and docs/*.md passes `check`. A complete example
// (publicUrl + psc) is checked as written; a fragment of top-level keys is checked merged into the
// main example (docs/deployment.md); an `access:` fragment inside a route. Files under /etc/psc-gateway/ are
// made at test time (openssl) in a temporary directory and the paths rewritten to it.
import { execFile } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { readdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parse, stringify } from 'yaml'
import { loadConfigText } from '../../src/config/load.js'
import { makeTestPki, P12_PASSWORD } from '../helpers/pki.js'
import { TYPESCRIPT_NODE_ARGS } from '../helpers/typescript-node.js'

const ROOT = join(import.meta.dirname, '..', '..')
const SOURCES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
]
// The main configuration example, onto which every page's fragments are merged (the README is a short front page).
const MAIN_EXAMPLE = 'docs/deployment.md'

/**
 * Not gateway configurations: Helm values (their `config:` is checked by test/helm), and the other
 * proxies' configurations shown beside ours (Kubernetes objects, Traefik, Envoy).
 */
const NOT_GATEWAY_CONFIG = new Set([
  'image',
  'replicaCount',
  'ingress',
  'secrets',
  'deploymentAnnotations',
  'apiVersion',
  'kind',
  'metadata',
  'spec',
  'http',
  'static_resources',
  'http_filters',
])

/**
 * Examples found not to pass check, reported as "todo" (never as passing) until their page is fixed;
 * the reason says why.
 */
const KNOWN_BROKEN = new Map<string, string>([])

interface Example {
  source: string
  line: number
  text: string
}

function examples(): Example[] {
  const out: Example[] = []
  for (const source of SOURCES) {
    const lines = readFileSync(join(ROOT, source), 'utf8').split('\n')
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.trim() !== '```yaml') continue
      const start = i + 1
      let end = start
      while (end < lines.length && lines[end]!.trim() !== '```') end++
      out.push({ source, line: start + 1, text: lines.slice(start, end).join('\n') })
      i = end
    }
  }
  return out
}

const ENV = {
  PSC_CLIENT_SECRET: 'client-secret-from-the-environment',
  SESSION_SECRET: 'session-secret-0123456789abcdef-0123456789',
  GATEWAY_UPSTREAM_SECRET: 'upstream-secret',
  REDIS_URL: 'redis://127.0.0.1:6379/0',
  AUDIT_HMAC_KEY: 'audit-hmac-key-0123456789abcdef-0123456789',
  PSC_PROXY_PASSWORD: 'proxy-password',
  PSC_CERT_PASSWORD: P12_PASSWORD,
  LDAP_BIND_PASSWORD: 'ldap-bind-password',
  // docs/assertion.md: the signing key, a real Ed25519 key made for this run
  PSC_ASSERTION_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * A fragment adds to what the page showed before, except a section with another `source` (the
 * LDAP directory after the mapping file): that is the alternative to it, so it replaces it.
 */
function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base }
  for (const [k, v] of Object.entries(over)) {
    const b = out[k]
    const alternative = isObject(v) && isObject(b) && 'source' in v && 'source' in b && v.source !== b.source
    out[k] = isObject(v) && isObject(b) && !alternative ? merge(b, v) : v
  }
  return out
}

t.test('every configuration example in the README and docs/ passes check', async (t) => {
  const pki = makeTestPki()
  t.teardown(() => pki.close())
  // the files the documentation names, made for real
  copyFileSync(pki.clientP12File, join(pki.dir, 'psc-client.p12'))
  copyFileSync(pki.clientCertFile, join(pki.dir, 'psc-client.pem'))
  copyFileSync(pki.clientKeyFile, join(pki.dir, 'psc-client.key'))
  copyFileSync(pki.caFile, join(pki.dir, 'ca-bundle.pem'))
  copyFileSync(pki.caFile, join(pki.dir, 'siem-ca.pem'))
  writeFileSync(join(pki.dir, 'admin-token'), 'admin-token-0123456789abcdef-0123456789\n')
  // server paths the documentation names: configuration and secrets, the audit file's directory
  const localise = (text: string) =>
    text.replaceAll('/etc/psc-gateway/', `${pki.dir}/`).replaceAll('/var/log/psc-gateway/', `${pki.dir}/`)

  const all = examples()
  const main = all.find((e) => e.source === MAIN_EXAMPLE && /^publicUrl:/m.test(e.text) && /^psc:/m.test(e.text))
  if (main === undefined) throw new Error(`${MAIN_EXAMPLE} has no complete configuration example`)
  const mainData = parse(main.text) as Record<string, unknown>
  let checked = 0
  // A page builds a configuration up: each fragment is checked merged onto the main
  // example and the page's earlier fragments.
  let page = ''
  let base = mainData
  for (const e of all) {
    if (e.source !== page) {
      page = e.source
      base = mainData
    }
    const where = `${e.source}:${e.line}`
    let data: Record<string, unknown> | null
    try {
      data = parse(localise(e.text)) as Record<string, unknown> | null
    } catch (err) {
      t.fail(`${where}: not a YAML document: ${(err as Error).message.split('\n')[0]}`, {
        todo: KNOWN_BROKEN.get(where),
      })
      continue
    }
    // a top-level list is another file's format (e.g. an accounts mapping), not a configuration
    if (data === null || typeof data !== 'object' || Array.isArray(data)) continue
    const keys = Object.keys(data)
    if (keys.some((k) => NOT_GATEWAY_CONFIG.has(k))) continue
    let yaml: string
    if ('publicUrl' in data && 'psc' in data) yaml = localise(e.text)
    else if (keys.length === 1 && keys[0] === 'access') {
      yaml = stringify(merge(base, { routes: [{ name: 'example', upstream: 'dpi', access: data.access }] }))
    } else {
      base = merge(base, data)
      yaml = stringify(base)
    }
    try {
      loadConfigText(yaml, where, ENV)
      t.pass(where)
    } catch (err) {
      t.fail(`${where}: ${(err as Error).message}`, { todo: KNOWN_BROKEN.get(where) })
    }
    checked++
  }
  t.ok(checked >= 11, `${checked} examples checked`)
})

t.test('the main example passes `psc-gateway check` itself, with no previous session secret set', async (t) => {
  const main = examples().find((e) => e.source === MAIN_EXAMPLE && /^publicUrl:/m.test(e.text))!
  const dir = t.testdir({})
  const file = join(dir, 'gateway.yaml')
  writeFileSync(file, main.text)
  const env: NodeJS.ProcessEnv = { ...process.env, ...ENV }
  delete env.SESSION_SECRET_PREVIOUS
  const res = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [...TYPESCRIPT_NODE_ARGS, join(ROOT, 'src', 'cli.ts'), 'check', '--config', file],
      { encoding: 'utf8', env },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
    )
  })
  t.equal(res.code, 0, res.stderr)
  t.match(res.stdout, `${file}: OK`)
})

t.test('an empty ${VAR:-} entry in session.secrets means "no such secret"; a set one is a second secret', async (t) => {
  const yaml = (secrets: string) => `
publicUrl: https://dpi.example.fr
psc: { environment: bas, clientId: x, clientSecret: y }
session:
  secrets: ${secrets}
upstreams: { app: { url: "http://127.0.0.1:9" } }
routes: [{ name: all, upstream: app, access: authenticated }]
`
  const two = '["${SESSION_SECRET}", "${SESSION_SECRET_PREVIOUS:-}"]'
  t.same(loadConfigText(yaml(two), 'a.yaml', { SESSION_SECRET: ENV.SESSION_SECRET }).config.session.secrets, [
    ENV.SESSION_SECRET,
  ])
  t.same(
    loadConfigText(yaml(two), 'a.yaml', { SESSION_SECRET: ENV.SESSION_SECRET, SESSION_SECRET_PREVIOUS: 'p'.repeat(32) })
      .config.session.secrets,
    [ENV.SESSION_SECRET, 'p'.repeat(32)],
  )
  t.throws(
    () => loadConfigText(yaml('["${SESSION_SECRET_PREVIOUS:-}", "${A:-}"]'), 'a.yaml', {}),
    /session\.secrets: expected a list of at least 1 item/,
    'all empty: refused',
  )
  t.throws(
    () => loadConfigText(yaml('["", "${SESSION_SECRET}"]'), 'a.yaml', { SESSION_SECRET: ENV.SESSION_SECRET }),
    /a\.yaml:5:\d+: session\.secrets\[0\]: expected at least 32 characters/,
    'an empty string written as such is still refused',
  )
  t.throws(
    () => loadConfigText(yaml('["${A:-}", "short"]'), 'a.yaml', {}),
    /a\.yaml:5:\d+: session\.secrets\[0\]: expected at least 32 characters, got 5/,
    'the position still points at the remaining entry',
  )
})
