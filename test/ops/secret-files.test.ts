// Secrets from mounted files, as Docker and Kubernetes provide them: ${file:/path} in the YAML and
// NAME_FILE variables. Contents are never echoed in an error.
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ConfigError } from '../../src/config/config-error.js'
import { loadConfigText } from '../../src/config/load.js'

const dir = mkdtempSync(join(tmpdir(), 'psc-secrets-'))
const CLIENT_SECRET = 'client-secret-from-file-1234'
const SESSION_SECRET = 's'.repeat(40)
writeFileSync(join(dir, 'client-secret'), `${CLIENT_SECRET}\n`)
writeFileSync(join(dir, 'session-secret'), SESSION_SECRET)
writeFileSync(join(dir, 'crlf'), `${SESSION_SECRET}\r\n`)
writeFileSync(join(dir, 'two-newlines'), `${'z'.repeat(40)}\n\n`)

const yaml = (clientSecret: string, sessionSecret: string) => `publicUrl: https://dpi.example.fr
psc:
  environment: bas
  clientId: my-client
  clientSecret: "${clientSecret}"
session:
  secrets:
    - "${sessionSecret}"
upstreams:
  dpi: { url: "http://dpi.internal:8080" }
routes:
  - { name: all, upstream: dpi, access: authenticated }
`

function issues(text: string, env: Record<string, string>): string {
  try {
    loadConfigText(text, 'gateway.yaml', env)
  } catch (err) {
    if (err instanceof ConfigError) return err.message
    throw err
  }
  throw new Error('expected a ConfigError')
}

t.test('${file:/path} reads the file and drops one trailing newline', async (t) => {
  const { config } = loadConfigText(
    yaml(`\${file:${dir}/client-secret}`, `\${file:${dir}/session-secret}`),
    'gateway.yaml',
    {},
  )
  t.equal(config.psc.clientSecret, CLIENT_SECRET)
  t.same(config.session.secrets, [SESSION_SECRET])
  const crlf = loadConfigText(yaml(`\${file:${dir}/client-secret}`, `\${file:${dir}/crlf}`), 'gateway.yaml', {})
  t.same(crlf.config.session.secrets, [SESSION_SECRET], 'CRLF too')
  // Only one newline: a second one is part of the value (and here makes it another string).
  const two = loadConfigText(yaml(`\${file:${dir}/client-secret}`, `\${file:${dir}/two-newlines}`), 'gateway.yaml', {})
  t.same(two.config.session.secrets, [`${'z'.repeat(40)}\n`])
})

t.test('NAME_FILE is read when NAME is referenced and unset', async (t) => {
  const text = yaml('${PSC_CLIENT_SECRET}', '${SESSION_SECRET}')
  const { config } = loadConfigText(text, 'gateway.yaml', {
    PSC_CLIENT_SECRET_FILE: join(dir, 'client-secret'),
    SESSION_SECRET_FILE: join(dir, 'session-secret'),
  })
  t.equal(config.psc.clientSecret, CLIENT_SECRET)
  t.same(config.session.secrets, [SESSION_SECRET])
  const both = loadConfigText(text, 'gateway.yaml', {
    PSC_CLIENT_SECRET: 'from-the-environment',
    PSC_CLIENT_SECRET_FILE: join(dir, 'client-secret'),
    SESSION_SECRET: SESSION_SECRET,
  })
  t.equal(both.config.psc.clientSecret, 'from-the-environment', 'the variable itself wins over NAME_FILE')
  const withDefault = loadConfigText(
    yaml('${PSC_CLIENT_SECRET}', `\${SESSION_SECRET:-${'d'.repeat(40)}}`),
    'gateway.yaml',
    {
      PSC_CLIENT_SECRET: 'x',
      SESSION_SECRET_FILE: join(dir, 'session-secret'),
    },
  )
  t.same(withDefault.config.session.secrets, [SESSION_SECRET], 'NAME_FILE before the default')
})

t.test('errors name the file, line and key, never the content', async (t) => {
  const missing = issues(yaml(`\${file:${dir}/nope}`, `\${file:${dir}/session-secret}`), {})
  t.match(
    missing,
    new RegExp(`^gateway\\.yaml:5:17: psc\\.clientSecret: secret file: cannot read ${dir}/nope \\(ENOENT\\)`, 'm'),
  )
  const relative = issues(yaml('${file:secrets/x}', `\${file:${dir}/session-secret}`), {})
  t.match(relative, /psc\.clientSecret: \$\{file:\.\.\.\} needs an absolute path, got "secrets\/x"/)
  const fileVar = issues(yaml('${PSC_CLIENT_SECRET}', '${SESSION_SECRET}'), {
    PSC_CLIENT_SECRET: 'x',
    SESSION_SECRET_FILE: join(dir, 'absent'),
  })
  t.match(
    fileVar,
    /:8:7: session\.secrets\[0\]: SESSION_SECRET is unset and SESSION_SECRET_FILE names a file that cannot be read: cannot read .*absent \(ENOENT\)/,
  )
  if (process.getuid?.() !== 0) {
    writeFileSync(join(dir, 'unreadable'), 'top-secret-value')
    chmodSync(join(dir, 'unreadable'), 0o000)
    t.match(issues(yaml(`\${file:${dir}/unreadable}`, `\${file:${dir}/session-secret}`), {}), /EACCES/)
  }
  // A secret too short for the schema: the message says so without showing it.
  writeFileSync(join(dir, 'short'), 'tooshort-secret\n')
  const short = issues(yaml(`\${file:${dir}/client-secret}`, `\${file:${dir}/short}`), {})
  t.match(short, /session\.secrets\[0\]/)
  t.notMatch(short, /tooshort-secret/)
  for (const text of [missing, relative, fileVar, short])
    t.notMatch(text, new RegExp(`${CLIENT_SECRET}|${SESSION_SECRET}`))
})
