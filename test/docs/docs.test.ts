// The documentation is exercised: the configuration reference is what the schema generates, every
// outcome code has its troubleshooting entry, every psc-gateway command shown runs and exits 0,
// and every YAML configuration example passes `check`.
import { generateKeyPairSync } from 'node:crypto'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import t from 'tap'
import { parse, stringify } from 'yaml'
import type { AuditEvent } from '../../src/audit/events.js'
import { FileDestination } from '../../src/audit/fd-destination.js'
import { QueuedSink } from '../../src/audit/queued-sink.js'
import { COMMANDS } from '../../src/cli/commands.js'
import { configReferenceMarkdown } from '../../src/config/reference.js'
import { PSC_ERR, PSC_ERR_CIBA } from '../../src/errors.js'
import { FORWARD_AUTH_ERR } from '../../src/policy/forwarded-request.js'
import { runCliBatch, type CliRun } from '../helpers/cli.js'

// The commands run in one process, but that process loads TypeScript: time on a loaded machine.
t.setTimeout(360_000)
const ROOT = new URL('../../', import.meta.url).pathname
const DOCS = [
  'README.md',
  'SECURITY.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
]
const read = (f: string): string => readFileSync(join(ROOT, f), 'utf8')

t.test('docs/configuration.md is what `npm run docs:config` generates from the schema', async (t) => {
  t.equal(read('docs/configuration.md'), configReferenceMarkdown(), 'stale: run npm run docs:config')
})

t.test('every outcome code has a troubleshooting entry', async (t) => {
  const page = read('docs/troubleshooting.md')
  const ciba = Object.values(PSC_ERR_CIBA).map((d) => d.code)
  t.ok(ciba.length >= 10, 'the CIBA codes are found')
  for (const code of [...Object.values(PSC_ERR).map((d) => d.code), ...Object.values(FORWARD_AUTH_ERR), ...ciba])
    t.ok(page.includes(`\`${code}\``), code)
})

t.test('every page the index and the README link to exists', async (t) => {
  for (const file of DOCS) {
    for (const [, target] of read(file).matchAll(/\]\(([^)#\s]+\.md)\)/g)) {
      const path = join(ROOT, dirname(file), target!)
      t.ok(existsSync(path), `${file} → ${target}`)
    }
  }
})

t.test(
  "every page of docs/ is in the index (docs/README.md), and the contributors' page is linked from the configuration reference",
  async (t) => {
    const index = read('docs/README.md')
    for (const file of readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
      t.ok(index.includes(`](${file})`), `docs/README.md links to ${file}`)
    }
    t.match(read('docs/configuration.md'), '](config-sections.md)')
  },
)

/**
 * Commands that start servers (serve is run by test/production; demo, emulator and demo-app are
 * dev/cli.ts's, demo run by test/cli/demo.test.ts),
 * or talk to PSC from the hospital's server (doctor, raccordement: every verdict is run by
 * test/ops/doctor.test.ts against the emulator and by test/psc/onboarding.test.ts): shown, not run
 * here. The audit lines are run, on audit files written for them.
 */
const NOT_RUN = new Set(['serve', 'demo', 'emulator', 'demo-app', 'doctor', 'raccordement', 'sessions'])

const AUDIT_KEY = 'docs-test-audit-hmac-key-0123456789abcdef'

/**
 * The audit files the pages' `psc-gateway audit` lines read, written by the real sink as logrotate
 * leaves them (audit.log.2, audit.log.1, audit.log: one chain), and the key file they name.
 */
async function writeAuditFiles(dir: string): Promise<void> {
  const file = join(dir, 'audit.log')
  const dest = new FileDestination(file, { hmacKey: AUDIT_KEY, checkEveryMs: 0 })
  const sink = new QueuedSink(dest)
  let i = 0
  for (const rotated of ['audit.log.2', 'audit.log.1', undefined]) {
    for (let n = 0; n < 5; n++, i++) {
      sink.write({
        v: 1,
        time: new Date().toISOString(),
        event: 'access',
        decision: i % 2 === 0 ? 'allow' : 'deny',
        requestId: `r${i}`,
        client: '10.0.0.2',
        idNat: '899700218896',
        route: i % 2 === 0 ? 'dpi' : 'pharmacie',
        method: 'GET',
        path: `/dossier/${i}`,
        status: i % 2 === 0 ? 200 : 403,
        durationMs: 1,
      } as AuditEvent)
    }
    await sink.flush()
    if (rotated !== undefined) {
      renameSync(file, join(dir, rotated))
      dest.reopen()
    }
  }
  await sink.close()
  writeFileSync(join(dir, 'audit-hmac-key'), AUDIT_KEY)
}

/** An audit line's arguments as a shell would pass them: placeholders and globs filled, no redirect. */
function auditArgs(args: string[], dir: string): string[] {
  const out: string[] = []
  for (const a of args) {
    if (a === '>') break
    // A placeholder stands for the files of one chain, oldest first: verify refuses a file whose head is missing.
    if (a === 'FILE...' || a === '<file>') out.push('audit.log.2', 'audit.log.1', 'audit.log')
    else if (a.startsWith('/run/secrets/')) out.push(join(dir, a.slice('/run/secrets/'.length)))
    else if (a.endsWith('*'))
      out.push(
        ...readdirSync(dir)
          .filter((f) => f.startsWith(a.slice(0, -1)))
          .sort(),
      )
    else out.push(a)
  }
  return out
}

function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!)
}

/** The psc-gateway command lines of a page: in shell blocks and in inline code. */
function commandsIn(text: string): string[] {
  const found: string[] = []
  for (const [, lang, body] of text.matchAll(/```(\w*)\n([\s\S]*?)```/g)) {
    if (!['sh', 'bash', 'shell', 'console', ''].includes(lang!)) continue
    for (const raw of body!.replace(/\\\n\s*/g, ' ').split('\n')) {
      const line = raw
        .replace(/^\$ /, '')
        .replace(/^npx /, '')
        .replace(/\s+#.*$/, '')
        .trim()
      if (line.startsWith('psc-gateway ') && !/^psc-gateway \S+:/.test(line)) found.push(line)
    }
  }
  // "psc-gateway audit: ..." is a log message quoted, not a command
  for (const [, inline] of text.matchAll(/`(psc-gateway [^`]+)`/g))
    if (!/^psc-gateway \S+:/.test(inline!)) found.push(inline!)
  return found
}

const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
/** A value for every ${NAME} a page uses, of the right shape. */
function envFor(texts: string[]): Record<string, string> {
  const env: Record<string, string> = {}
  for (const text of texts) {
    for (const [, name] of text.matchAll(/\$\{([A-Z0-9_]+)(?::-[^}]*)?\}/g)) {
      env[name!] = name!.includes('ASSERTION_KEY')
        ? pem
        : name!.includes('URL')
          ? 'redis://127.0.0.1:6379'
          : `placeholder-value-for-${name}-0123456789abcdef`
    }
  }
  return env
}

const TOP_LEVEL = new Set(
  Object.keys((parse(read('config/psc-gateway.schema.json')) as { properties: object }).properties),
)
const BASE = read('config/gateway.example.yaml')

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base }
  for (const [k, v] of Object.entries(over)) {
    const b = out[k]
    out[k] =
      b && v && typeof b === 'object' && typeof v === 'object' && !Array.isArray(b) && !Array.isArray(v)
        ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>)
        : v
  }
  return out
}

t.test(
  'every psc-gateway command shown in the docs runs, and every YAML configuration example passes check',
  async (t) => {
    const runs: Array<CliRun & { label: string }> = []
    const skipped: string[] = []
    for (const file of DOCS) {
      const text = read(file)
      const dir = mkdtempSync(join(tmpdir(), 'psc-docs-'))
      cpSync(join(ROOT, 'config'), join(dir, 'config'), { recursive: true })
      // A mapping file the page shows (a csv block) is written under the name its YAML gives it.
      const csv = /```csv\n([\s\S]*?)```/.exec(text)?.[1]
      if (csv !== undefined)
        for (const [, name] of text.matchAll(/^\s*file:\s*(\S+\.csv)\b/gm)) writeFileSync(join(dir, name!), csv)
      const env = envFor([text, BASE])
      for (const line of commandsIn(text)) {
        let args = words(line)
          .slice(1)
          .map((a) => (a === '<command>' ? 'check' : a))
        const name = args[0]!
        if (NOT_RUN.has(name) && !args.includes('--help')) {
          skipped.push(`${file}: ${line}`)
          continue
        }
        // "psc-gateway check" alone names the command in a sentence; it is not a command line.
        if (args.length === 1 && (name === 'check' || name === 'init')) continue
        if (name === 'audit') {
          // "psc-gateway audit verify" alone names the command in a sentence, too.
          if (args.length <= 2) continue
          if (!existsSync(join(dir, 'audit.log'))) await writeAuditFiles(dir)
          args = auditArgs(args, dir)
          runs.push({ label: `${file}: ${line}`, args, env: { ...env, AUDIT_HMAC_KEY: AUDIT_KEY }, cwd: dir })
          continue
        }
        const config = args.indexOf('--config')
        if (config !== -1) {
          if (args[config + 1] === 'FILE') args[config + 1] = 'config/gateway.example.yaml'
          const path = join(dir, args[config + 1]!)
          // A file the reader is told to write: the init shown before, or the documented example.
          if (!existsSync(path) && !runs.some((r) => r.cwd === dir && r.args.includes(args[config + 1]!))) {
            mkdirSync(dirname(path), { recursive: true })
            writeFileSync(path, BASE)
          }
        }
        runs.push({ label: `${file}: ${line}`, args, env, cwd: dir })
      }
      for (const [, lang, body] of text.matchAll(/```(\w*)\n([\s\S]*?)```/g)) {
        if (lang !== 'yaml' && lang !== 'yml') continue
        // Examples naming files on the hospital's server (CA bundle, client certificate) are checked
        // by test/config/doc-examples.test.ts, which makes those files (openssl) for the run.
        if (body!.includes('/etc/psc-gateway/')) {
          skipped.push(`${file}: YAML example with server files`)
          continue
        }
        let doc: unknown
        try {
          doc = parse(body!)
        } catch {
          t.fail(`${file}: a YAML example does not parse:\n${body}`)
          continue
        }
        if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) continue
        const keys = Object.keys(doc)
        // Kubernetes, Traefik and Envoy examples, and fragments of a route, are not configurations.
        if (!keys.every((k) => TOP_LEVEL.has(k))) continue
        const full = keys.includes('publicUrl') && keys.includes('routes')
        // Paths of a production host (/var/log/...) are made in the example's own directory.
        const yaml = (
          full ? body! : stringify(deepMerge(parse(BASE) as Record<string, unknown>, doc as Record<string, unknown>))
        ).replaceAll('/var/log/psc-gateway', dir)
        const path = join(dir, `example-${runs.length}.yaml`)
        writeFileSync(path, yaml)
        runs.push({
          label: `${file}: YAML example "${body!.split('\n')[0]}"`,
          args: ['check', '--config', path],
          env: envFor([text, BASE, body!]),
          cwd: dir,
        })
      }
    }
    t.ok(runs.length >= 15, `${runs.length} command lines and examples found`)
    t.comment(runs.map((r) => r.label.split('\n')[0]).join('\n'))
    const results = await runCliBatch(runs.map(({ args, env, cwd }) => ({ args, env, cwd })))
    results.forEach((r, i) => {
      t.equal(r.code, 0, `${runs[i]!.label}\n${r.stderr}`)
    })
    // What is not run here, and why: servers, and the commands that need a real PSC.
    t.comment(`shown, not run: ${skipped.length}`)
    t.ok(COMMANDS.length > 0)
  },
)
