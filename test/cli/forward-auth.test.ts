// psc-gateway forward-auth: what docs/forward-auth.md shows is what the command prints for the
// page's configuration; every proxy kind runs; mistakes get a clear message and exit code 2 (or 1
// for a configuration it cannot serve).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { parse, stringify } from 'yaml'
import { runCliBatch } from '../helpers/cli.js'

t.setTimeout(240_000)
const ROOT = new URL('../../', import.meta.url).pathname
const page = readFileSync(join(ROOT, 'docs/forward-auth.md'), 'utf8')
const section = page.slice(page.indexOf('## nginx (`auth_request`)'))
const example = /```yaml\n([\s\S]*?)```/.exec(section)![1]!
const csv = /```csv\n([\s\S]*?)```/.exec(section)![1]!
const shown = /```nginx\n([\s\S]*?)```/.exec(section)![1]!

const dir = mkdtempSync(join(tmpdir(), 'psc-fwd-cli-'))
const base = parse(readFileSync(join(ROOT, 'config/gateway.example.yaml'), 'utf8')) as Record<
  string,
  Record<string, unknown>
>
const ex = parse(example) as Record<string, Record<string, unknown>>
writeFileSync(
  join(dir, 'psc-gateway.yaml'),
  stringify({
    ...base,
    accounts: ex.accounts,
    headers: { ...base.headers, ...ex.headers },
    upstreams: { ...base.upstreams, ...ex.upstreams },
  }),
)
writeFileSync(join(dir, 'accounts.csv'), csv)
const env = {
  PSC_CLIENT_SECRET: 'client-secret-from-ans',
  SESSION_SECRET: 'a-session-secret-of-at-least-32-characters',
}
const KINDS = ['nginx', 'ingress-nginx', 'caddy', 'haproxy', 'haproxy-lua', 'traefik', 'envoy']
const run = (...args: string[]) => ({ args: ['forward-auth', ...args], env, cwd: dir })

t.test('the page shows what the command prints; every proxy kind runs', async (t) => {
  const results = await runCliBatch([
    ...KINDS.map((k) => run(k, '--config', 'psc-gateway.yaml', '--upstream', 'dpi')),
    run('nginx', '--config', 'psc-gateway.yaml'),
    run('nginx', '--config', 'psc-gateway.yaml', '--upstream', 'nope'),
    run('squid', '--config', 'psc-gateway.yaml'),
    run('--config', 'psc-gateway.yaml'),
    run('nginx', '--upstream', 'dpi'),
    run('nginx', '--config', 'psc-gateway.yaml', '--upstream', 'dpi', '--gateway', 'not a url'),
  ])
  const [nginx] = results
  t.equal(nginx!.code, 0, nginx!.stderr)
  t.equal(
    nginx!.stdout,
    shown,
    'docs/forward-auth.md shows the output verbatim (regenerate it after changing a generator)',
  )
  KINDS.forEach((k, i) => {
    t.equal(results[i]!.code, 0, `${k}: ${results[i]!.stderr}`)
    if (k !== 'haproxy-lua')
      for (const h of ['X-Remote-User', 'X-Remote-Groups', 'X-PSC-Structure-Finess', 'X-PSC-Assertion'])
        t.ok(results[i]!.stdout.toLowerCase().includes(h.toLowerCase()), `${k} names ${h}`)
  })
  const [several, unknown, squid, none, noConfig, badGateway] = results.slice(KINDS.length)
  t.equal(several!.code, 1)
  t.match(several!.stderr, /plusieurs upstreams \(.*dpi.*\) : dites lequel le proxy protège avec --upstream NOM/)
  t.equal(unknown!.code, 1)
  t.match(unknown!.stderr, /--upstream nope : pas d'upstream de ce nom/)
  t.equal(squid!.code, 2)
  t.match(squid!.stderr, /"squid": expected one of nginx\|ingress-nginx\|caddy/)
  t.equal(none!.code, 2)
  t.match(none!.stderr, /which proxy\?/)
  t.equal(noConfig!.code, 2)
  t.match(noConfig!.stderr, /needs --config FILE/)
  t.equal(badGateway!.code, 1)
  t.match(badGateway!.stderr, /--gateway not a url : une URL http:\/\/ était attendue/)
})
