// The security team's session control across replicas: two gateway PROCESSES sharing a real
// redis-server. Log in through A, list and revoke through B's admin API (and the CLI), and A refuses
// the revoked session at its very next request; the admin API refuses a missing or wrong token.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { startDemoApp } from '../../dev/demo/app.js'
import { startEmulator } from '../../dev/emulator/index.js'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { CLI, runShell } from '../helpers/cli.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { spawnGateway, until, type GatewayProcess } from '../helpers/gateway-process.js'
import { startRedis } from '../helpers/redis.js'
import { CLIENT_ID, CLIENT_SECRET, freePort, stackYaml } from '../helpers/stack.js'

const TOKEN = 'soc-token-0123456789abcdef0123456789abcdef'
const dir = mkdtempSync(join(tmpdir(), 'psc-session-control-'))
const tokenFile = join(dir, 'admin-token')
writeFileSync(tokenFile, `${TOKEN}\n`)

interface Replica {
  url: string
  adminUrl: string
  gateway: GatewayProcess
}

async function startReplica(yaml: string, name: string, port: number, adminPort: number): Promise<Replica> {
  const gateway = spawnGateway(yaml, name)
  const replica = { url: `http://127.0.0.1:${port}`, adminUrl: `http://127.0.0.1:${adminPort}`, gateway }
  await until(
    `replica ${name} to be ready`,
    async () => {
      if (gateway.child.exitCode !== null) throw new Error(`replica ${name} exited:\n${gateway.output.join('')}`)
      return (await fetch(`${replica.adminUrl}/readyz`)).status === 200
    },
    60_000,
  ) // two gateway processes starting at once on a loaded 2-core machine
  return replica
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}`, accept: 'application/json' })

interface Listed {
  ref: string
  idNat: string
  familyName: string
  loginMethod?: string
  loginClient?: string
  lastRoute?: string
}

t.test('revoked through B, refused by A at its next request', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.close())
  const upstream = await startDemoApp(0)
  t.teardown(() => upstream.close())
  const [portA, portB, adminA, adminB] = [await freePort(), await freePort(), await freePort(), await freePort()]
  const urls = [`http://127.0.0.1:${portA}`, `http://127.0.0.1:${portB}`]
  const emulator = await startEmulator({
    port: 0,
    clients: [
      {
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUris: urls.map((u) => `${u}/_psc/callback`),
        postLogoutRedirectUris: urls.map((u) => `${u}/_psc/logged-out`),
      },
    ],
  })
  t.teardown(() => emulator.close())
  const yaml = (port: number, adminPort: number) =>
    stackYaml({
      port,
      adminPort,
      adminTokenFile: tokenFile,
      issuer: emulator.issuer,
      upstreamUrl: upstream.url,
      redisUrl: redis.url,
    })
  const [a, b] = await Promise.all([
    startReplica(yaml(portA, adminA), 'a', portA, adminA),
    startReplica(yaml(portB, adminB), 'b', portB, adminB),
  ])
  t.teardown(async () => {
    await a.gateway.stop()
    await b.gateway.stop()
  })

  // Two browsers of the same practitioner, and a colleague, all through A.
  const first = new BrowserLikeClient()
  const second = new BrowserLikeClient()
  const colleague = new BrowserLikeClient()
  await loginThroughEmulator(first, `${a.url}/dossier`, '899700218896')
  await loginThroughEmulator(second, `${a.url}/dossier`, '899700218896')
  await loginThroughEmulator(colleague, `${a.url}/dossier`, '899700367915')
  for (const c of [first, second, colleague]) t.equal((await c.get(`${a.url}/dossier?format=json`)).status, 200)

  // The session API refuses without the token, or with a wrong one, and says nothing more.
  const none = await fetch(`${b.adminUrl}/sessions`, { headers: { accept: 'application/json' } })
  const wrong = await fetch(`${b.adminUrl}/sessions`, { headers: bearer(`${TOKEN.slice(0, -1)}x`) })
  const wrongDelete = await fetch(`${b.adminUrl}/sessions?practitioner=899700218896`, {
    method: 'DELETE',
    headers: bearer('short'),
  })
  for (const res of [none, wrong, wrongDelete]) {
    t.equal(res.status, 401)
    t.equal(res.headers.get('www-authenticate'), 'Bearer')
    const text = await res.text()
    t.notMatch(text, /wrong token|no token|admin-token|sessions"|899700218896/, 'no detail, no session')
    t.match(JSON.parse(text), { error: 'unauthorized', message: /Jeton d'administration absent ou refusé/ })
  }
  t.equal(
    (await fetch(`${a.url}/sessions`, { headers: bearer(TOKEN), redirect: 'manual' })).status,
    401,
    'the public port has no session API, token or not (it asks for a login)',
  )

  // Listed through B, filtered by RPPS: what A's logins were.
  const listed = await fetch(`${b.adminUrl}/sessions?practitioner=99700218896`, { headers: bearer(TOKEN) })
  t.equal(listed.status, 200)
  const { sessions } = (await listed.json()) as { sessions: Listed[] }
  t.equal(sessions.length, 2, "both of the practitioner's sessions, not the colleague's")
  for (const s of sessions)
    t.match(s, { idNat: '899700218896', loginMethod: 'redirect', loginClient: '127.0.0.1', ref: /^[\w-]{16}$/ })
  const all = (await (await fetch(`${b.adminUrl}/sessions`, { headers: bearer(TOKEN) })).json()) as {
    sessions: Listed[]
  }
  t.equal(all.sessions.length, 3)
  t.notMatch(JSON.stringify(all), /token|psc_session/i, 'no token, no cookie in the list')

  // The CLI prints the same as a French table, through the admin API.
  const table = await runShell(`${CLI} sessions list --admin-url ${b.adminUrl} --token-file ${tokenFile}`)
  t.equal(table.code, 0, table.stderr)
  t.match(table.stdout, /Praticien\s+idNat\s+Adresse\s+Début\s+Dernière activité\s+Connexion/)
  t.match(table.stdout, /3 sessions en cours\./)
  for (const s of all.sessions) t.match(table.stdout, s.ref)

  // Revoke the first browser's session through B: A refuses it at once.
  // Which browser holds which reference is not visible from outside: revoke one, then see which one A refuses.
  const firstSession = sessions[0]!
  const revoked = await fetch(`${b.adminUrl}/sessions/${firstSession.ref}`, {
    method: 'DELETE',
    headers: bearer(TOKEN),
  })
  const revokedAt = Date.now()
  t.equal(revoked.status, 200)
  t.match(await revoked.json(), { revoked: [{ ref: firstSession.ref, idNat: '899700218896' }] })
  const [r1, r2] = await Promise.all([
    first.get(`${a.url}/dossier?format=json`),
    second.get(`${a.url}/dossier?format=json`),
  ])
  const refusedWithin = Date.now() - revokedAt
  t.same([r1.status, r2.status].sort(), [200, 302], 'one browser is sent to log in again, the other goes on')
  t.ok(refusedWithin < 1000, `refused within a second (${refusedWithin} ms)`)
  const gone = r1.status === 302 ? r1 : r2
  t.match(gone.headers.location, /\/_psc\/login/)
  t.equal(
    (await fetch(`${b.adminUrl}/sessions/${firstSession.ref}`, { method: 'DELETE', headers: bearer(TOKEN) })).status,
    404,
  )

  // Every session of the practitioner, by the CLI through A's admin API: refused through B.
  const cli = await runShell(
    `${CLI} sessions revoke --practitioner 899700218896 --admin-url ${a.adminUrl} --token-file ${tokenFile}`,
  )
  t.equal(cli.code, 0, cli.stderr)
  t.match(cli.stdout, /1 session terminée \(sur toutes les instances\)/)
  const survivor = r1.status === 200 ? first : second
  survivor.setCookie(b.url, { name: 'psc_session', value: survivor.cookieValue(a.url, 'psc_session')! })
  t.equal((await survivor.get(`${b.url}/dossier?format=json`)).status, 302, 'refused through B too')
  colleague.setCookie(b.url, { name: 'psc_session', value: colleague.cookieValue(a.url, 'psc_session')! })
  t.equal((await colleague.get(`${b.url}/dossier?format=json`)).status, 200, 'the colleague is not touched')

  // Audited by the replica that was asked, naming the token's holder and the caller's address.
  await until('the audit lines', async () => b.gateway.output.join('').includes('"action":"session-revoked"'), 5000)
  const lines = [...a.gateway.output, ...b.gateway.output]
    .join('')
    .split('\n')
    .filter((l) => l.includes('"log":"audit"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
  t.match(
    lines.find((l) => l.event === 'admin' && l.action === 'session-revoked'),
    { outcome: 'done', by: 'soc', client: '127.0.0.1', sessionsEnded: [firstSession.ref] },
  )
  t.match(
    lines.find((l) => l.event === 'admin' && l.action === 'practitioner-sessions-revoked'),
    { outcome: 'done', by: 'soc', idNat: '899700218896' },
  )
  t.match(
    lines.find((l) => l.event === 'session' && l.reason === 'admin-revoked' && l.session === firstSession.ref),
    { outcome: 'ended', idNat: '899700218896' },
  )
  t.match(
    lines.filter((l) => l.event === 'admin' && l.outcome === 'refused').map((l) => l.by),
    [undefined, undefined, undefined],
    'the three refusals are audited, with no one named',
  )
  t.notOk(
    lines.some((l) => JSON.stringify(l).includes(TOKEN)),
    'the token is never written',
  )
})
