// publicUrl in production: one plain DNS name over https. Loopback, an IP, credentials, a query, a
// fragment, a trailing dot or an underscore are refused with file:line and key (and `check` prints
// the same); outside production what the gateway would silently drop is a warning.
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { publicUrlProblems } from '../../src/psc/public-url.js'
import { BASE, ENV, brief, issuesOf, load } from './fixture.js'
import { TYPESCRIPT_NODE_ARGS } from '../helpers/typescript-node.js'

const ROOT = join(import.meta.dirname, '..', '..')
const production = (publicUrl: string) =>
  BASE.replace('publicUrl: https://dpi.example.fr', `publicUrl: "${publicUrl}"`).replace(
    'environment: bas',
    'environment: production',
  )

const REFUSED: Array<[string, string]> = [
  ['https://localhost', 'loopback'],
  ['https://127.0.0.1', 'loopback'],
  ['https://10.1.2.3', 'ip-address'],
  ['https://[2001:db8::1]', 'ip-address'],
  ['https://dpi.example.fr.', 'trailing-dot'],
  ['https://user:pw@dpi.example.fr', 'credentials'],
  ['https://dpi.example.fr?x=1', 'query'],
  ['https://dpi.example.fr#top', 'fragment'],
  ['https://dpi_prod.example.fr', 'underscore'],
]

t.test('each rule, as a pure function', async (t) => {
  for (const [url, rule] of REFUSED)
    t.same(
      publicUrlProblems(url).map((p) => p.rule),
      [rule],
      url,
    )
  t.same(publicUrlProblems('https://dpi.example.fr'), [])
  t.same(publicUrlProblems('https://dpi.example.fr:8443/'), [])
  t.same(
    publicUrlProblems('https://user:pw@dpi_x.example.fr.?a#b')
      .map((p) => p.rule)
      .sort(),
    ['credentials', 'fragment', 'query', 'trailing-dot', 'underscore'],
  )
})

t.test('production refuses each one, at the publicUrl key', async (t) => {
  t.same(load(production('https://dpi.example.fr')).warnings, [], 'a plain DNS name is fine')
  for (const [url, rule] of REFUSED) {
    const issues = brief(issuesOf(production(url)))
    t.equal(issues.length, 1, `${url}: ${issues.join(' | ')}`)
    t.match(issues[0], /^1:publicUrl: .*refused with psc\.environment production/, url)
    const expected = {
      loopback: /loopback/,
      'ip-address': /IP address/,
      'trailing-dot': /ends with a dot/,
      credentials: /user name or password/,
      query: /query string/,
      fragment: /fragment/,
      underscore: /underscore/,
    }[rule]
    t.match(issues[0], expected!, url)
  }
})

t.test('outside production: loopback is normal (emulator), what is dropped is a warning', async (t) => {
  const bas = (publicUrl: string) => BASE.replace('publicUrl: https://dpi.example.fr', `publicUrl: "${publicUrl}"`)
  t.same(load(bas('https://localhost:8443')).warnings, [])
  const w = load(bas('https://user:pw@dpi.example.fr?x=1')).warnings
  t.equal(w.length, 2, w.join(' | '))
  t.match(w.join('\n'), /user name or password/)
  t.match(w.join('\n'), /query string/)
})

t.test('check prints the error with file, line and key, and exits 1', async (t) => {
  const dir = t.testdir({})
  const file = join(dir, 'gateway.yaml')
  writeFileSync(file, production('https://localhost'))
  const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [...TYPESCRIPT_NODE_ARGS, join(ROOT, 'src', 'cli.ts'), 'check', '--config', file],
      { encoding: 'utf8', env: { ...process.env, ...ENV } },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
    )
  })
  t.equal(out.code, 1)
  t.match(out.stderr, /gateway\.yaml:1:\d+: publicUrl: localhost is a loopback address/)
})
