// Attack class 8: secrets. The client secret, the cookie secrets, the upstream shared secret, PSC
// tokens, session ids and cookie values never appear in the logs, the audit trail, error pages,
// /_psc/me, nor in the output of `psc-gateway check` (valid or invalid configuration).
import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { rawGet } from '../helpers/raw-http.js'
import { CLIENT_SECRET, SESSION_SECRET, startStack } from '../helpers/stack.js'

const run = promisify(execFile)

t.test('logs, audit, error pages and /_psc/me never carry a secret or a token', async (t) => {
  const stack = await startStack({ upstreamTimeout: '300ms' })
  t.teardown(() => stack.close())
  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${stack.url}/`, '899700218896')
  const cookie = decodeURIComponent(client.cookieValue(stack.url, 'psc_session')!)
  const sessionId = cookie.slice(0, cookie.lastIndexOf('.'))
  const record = (await stack.gateway.sessions.store.get(sessionId))!
  const secrets = [
    CLIENT_SECRET,
    SESSION_SECRET,
    cookie,
    sessionId,
    record.accessToken,
    record.idToken,
    ...(record.refreshToken ? [record.refreshToken] : []),
  ]

  // Collect every body the gateway itself answers, on purpose including error paths.
  const bodies: string[] = []
  const header = `Cookie: psc_session=${encodeURIComponent(cookie)}`
  for (const path of [
    '/_psc/me',
    '/_psc/callback?state=x&code=y',
    '/_psc/callback?code=y',
    '/%zz',
    '/a;b',
    '/_psc/nothing',
    '/admin/x',
  ]) {
    for (const accept of ['text/html', 'application/json']) {
      const { response } = await rawGet(stack.url, path, [header, `Accept: ${accept}`])
      bodies.push(`${path} ${response?.status} ${JSON.stringify(response?.headers)} ${response?.body}`)
    }
  }
  const me = await rawGet(stack.url, '/_psc/me', [header])
  t.equal(me.response?.status, 200)
  t.match(JSON.parse(me.response!.body), { identity: { idNat: '899700218896' } }, '/_psc/me shows who, not how')
  // a broken cookie and a smuggling attempt end up in the logs as client errors
  await rawGet(stack.url, '/x', [`Cookie: psc_session=${encodeURIComponent(cookie)}x`])
  await rawGet(stack.url, '/x', [
    'Content-Length: 1',
    'Transfer-Encoding: chunked',
    `Authorization: Bearer ${record.accessToken}`,
  ])
  // the session cookie, the authorization header and a spoofed token on a logged-in request
  await rawGet(stack.url, '/page?format=json', [header, `Authorization: Bearer ${record.accessToken}`])
  await client.get(`${stack.url}/_psc/logout`)

  const everything = [...bodies, JSON.stringify(stack.audit), ...stack.logs].join('\n')
  t.ok(everything.length > 5000, 'a fair amount of output was collected')
  for (const secret of secrets) t.notOk(everything.includes(secret), `absent: ${secret.slice(0, 6)}…`)
})

const CONFIG = (clientSecret: string, sessionSecret: string) => `
publicUrl: https://dpi.hopital.example
psc:
  environment: bas
  clientId: dpi-hopital
  clientSecret: \${PSC_CLIENT_SECRET}
session:
  secrets: ["\${SESSION_SECRET}", "${sessionSecret}"]
upstreams:
  dpi: { url: "http://dpi.internal:8080", headers: { X-Gateway-Secret: "\${GATEWAY_SECRET}" } }
routes:
  - { name: dpi, upstream: dpi, access: authenticated }
# the client secret appears nowhere else: ${clientSecret.length} characters
`

t.test('`check` prints no secret, for a valid or an invalid configuration', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'psc-check-'))
  const env = {
    ...process.env,
    PSC_CLIENT_SECRET: 'client-secret-VALUE-4f1e9a7c',
    SESSION_SECRET: 'session-secret-VALUE-0123456789abcdef-A1',
    GATEWAY_SECRET: 'gateway-shared-secret-VALUE-77',
  }
  const inline = 'inline-session-secret-VALUE-0123456789-B2'
  const secrets = [env.PSC_CLIENT_SECRET, env.SESSION_SECRET, env.GATEWAY_SECRET, inline]
  const cli = join(process.cwd(), 'src/cli.ts')
  const tsx = join(process.cwd(), 'node_modules/.bin/tsx')

  const good = join(dir, 'good.yaml')
  writeFileSync(good, CONFIG(env.PSC_CLIENT_SECRET, inline))
  const ok = await run(tsx, [cli, 'check', '--config', good], { env })
  t.match(ok.stdout, /OK/)
  for (const s of secrets) t.notOk(ok.stdout.includes(s) || ok.stderr.includes(s), `valid: absent ${s.slice(0, 12)}`)

  // Invalid: a secret too short, a duplicated secret, an unknown key next to them.
  const bad = join(dir, 'bad.yaml')
  writeFileSync(
    bad,
    CONFIG(env.PSC_CLIENT_SECRET, 'short-VALUE-x')
      .replace('routes:', 'sesion: {}\nroutes:')
      .replace(`"\${SESSION_SECRET}", "short-VALUE-x"`, `"\${SESSION_SECRET}", "\${SESSION_SECRET}", "short-VALUE-x"`),
  )
  const failed = await run(tsx, [cli, 'check', '--config', bad], { env }).then(
    () => undefined,
    (e: { code: number; stdout: string; stderr: string }) => e,
  )
  t.ok(failed, 'check exits non-zero')
  t.equal(failed?.code, 1)
  const out = `${failed?.stdout}\n${failed?.stderr}`
  t.match(out, /session\.secrets/, 'the error names the key')
  for (const s of [...secrets, 'short-VALUE-x']) t.notOk(out.includes(s), `invalid: absent ${s.slice(0, 12)}`)
})
