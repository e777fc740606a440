// Forward-auth behind a real nginx (Debian's, auth_request) in front of an application, with the
// server block of docs/forward-auth.md as written: login through the PSC emulator, allowed,
// refused, logout, and spoofing attempts (through nginx, and straight at the gateway from an
// address that is not a trusted proxy).
import { request as httpRequest } from 'node:http'
import { createLocalJWKSet, jwtVerify } from 'jose'
import t from 'tap'
import type { AuditEvent } from '../../src/audit/events.js'
import { loadConfigText } from '../../src/config/load.js'
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js'
import { buildGateway, type Gateway } from '../../src/gateway.js'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { forwardAuthServer, startNginx, type RunningNginx } from '../helpers/nginx.js'
import { reservePort } from '../helpers/ports.js'
import { CLIENT_ID, CLIENT_SECRET, freePort, stackYaml } from '../helpers/stack.js'
import { startCountingUpstream, type CountingUpstream, type Echo } from '../security/fixture.js'

const MEDECIN = '899700218896'
const AUDIENCE = 'demo-app'

let nginx: RunningNginx
let gateway: Gateway
let gatewayUrl: string
let emulator: RunningEmulator
let app: CountingUpstream
const audit: AuditEvent[] = []

t.before(async () => {
  app = await startCountingUpstream()
  // nginx binds its own port (another process); the gateway's is reserved and handed over.
  const nginxPort = await freePort()
  const reserved = await reservePort()
  const gatewayPort = reserved.port
  const publicUrl = `http://127.0.0.1:${nginxPort}`
  emulator = await startEmulator({
    port: 0,
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [`${publicUrl}/_psc/callback`], postLogoutRedirectUris: [`${publicUrl}/_psc/logged-out`] }]
  })
  const yaml = stackYaml({ port: gatewayPort, issuer: emulator.issuer, upstreamUrl: app.url })
    .replace(`publicUrl: http://127.0.0.1:${gatewayPort}`, `publicUrl: ${publicUrl}\ntrustedProxies: [127.0.0.1]`)
    .replace(`app: { url: "${app.url}" }`, `app: { url: "${app.url}", assertion: { audience: ${AUDIENCE}, ttl: 30s } }`)
  const { config } = loadConfigText(yaml, 'forward-auth.yaml', { TEST_CLIENT_SECRET: CLIENT_SECRET })
  gateway = await buildGateway(config, { audit: { write: (e) => void audit.push(JSON.parse(JSON.stringify(e)) as AuditEvent) }, logStream: { write: () => true } as never })
  await gateway.psc.start()
  gatewayUrl = (await gateway.listen(reserved)).url
  nginx = await startNginx(nginxPort, forwardAuthServer(`127.0.0.1:${gatewayPort}`, app.url.replace('http://', '')))
})
t.teardown(async () => {
  await nginx?.close()
  await gateway?.close()
  await emulator?.close()
  await app?.close()
})

const received = (path: string): Echo[] => app.received.filter((e) => e.url === path)

/** A request straight to the gateway from `localAddress` (127.0.0.2 is not a trusted proxy). */
function direct(path: string, headers: Record<string, string>, localAddress: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, gatewayUrl)
    const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname + u.search, headers, localAddress }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }))
    })
    req.on('error', reject)
    req.end()
  })
}

t.test('without a session, nginx sends the browser to the login, and the application sees nothing', async (t) => {
  const client = new BrowserLikeClient()
  const res = await client.get(`${nginx.url}/medecins/dossier?x=1`)
  t.equal(res.status, 302, nginx.errorLog())
  t.equal(res.headers.location, `${nginx.url}/_psc/login?rd=${encodeURIComponent('/medecins/dossier?x=1')}`)
  t.same(received('/medecins/dossier?x=1'), [], 'not forwarded')
  const line = audit.findLast((e) => e.event === 'access' && e.path === '/_psc/auth')
  t.match(line, { decision: 'login', reason: 'PSC_ERR_LOGIN_REQUIRED', route: 'medecins-civils', detail: /^forward-auth GET \/medecins\/dossier/ })
})

t.test('a public page passes anonymously; client-sent identity headers do not reach the application', async (t) => {
  const res = await fetch(`${nginx.url}/public/page`, { headers: { 'X-PSC-IdNat': 'forged', 'X-PSC-Assertion': 'forged' } })
  t.equal(res.status, 200)
  const echo = (await res.json()) as Echo
  t.notOk(echo.headers['x-psc-idnat'], 'nginx set the (empty) header over the forged one')
  t.notOk(echo.headers['x-psc-assertion'])
})

t.test('login through PSC, allowed, refused, logout', async (t) => {
  const client = new BrowserLikeClient()
  const landed = await loginThroughEmulator(client, `${nginx.url}/medecins/dossier`, MEDECIN)
  t.equal(landed.status, 200, 'back on the page asked for, through nginx')
  t.equal(landed.url, `${nginx.url}/medecins/dossier`)
  const echo = JSON.parse(landed.body) as Echo
  t.equal(echo.headers['x-psc-idnat'], MEDECIN, 'the identity header copied by nginx')
  t.equal(echo.headers['x-psc-profession-code'], '10')

  // The signed assertion travels too, and verifies with the published keys.
  const token = echo.headers['x-psc-assertion'] as string
  t.type(token, 'string')
  const jwks = (await (await fetch(`${nginx.url}/_psc/jwks.json`)).json()) as { keys: never[] }
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), { audience: AUDIENCE, issuer: nginx.url })
  t.equal(payload.idNat, MEDECIN)
  t.equal(protectedHeader.alg, 'EdDSA')
  t.ok(payload.exp! - payload.iat! === 30, 'ttl from the upstream settings')

  const refused = await client.get(`${nginx.url}/pharmacie/stock`)
  t.equal(refused.status, 403, 'refused by the route rules')
  t.same(received('/pharmacie/stock'), [], 'never forwarded')
  t.match(audit.findLast((e) => e.event === 'access' && e.path === '/_psc/auth'), { decision: 'deny', reason: 'PSC_ERR_DENIED_PROFESSION', idNat: MEDECIN, route: 'pharmacie' })

  const out = await client.follow(`${nginx.url}/_psc/logout`)
  t.equal(out.status, 200)
  const after = await client.get(`${nginx.url}/medecins/dossier`)
  t.equal(after.status, 302, 'after logout, the login again')
  t.match(after.headers.location, /\/_psc\/login\?rd=/)
})

t.test('spoofing through nginx: the original URI is what nginx says, not what the client says', async (t) => {
  const client = new BrowserLikeClient()
  const res = await client.get(`${nginx.url}/medecins/secret`, {
    headers: { 'X-Original-URI': '/public/x', 'X-Forwarded-Uri': '/public/x', 'X-Original-Method': 'GET', 'X-Forwarded-Host': 'elsewhere.example' }
  })
  t.equal(res.status, 302, 'still the login: nginx replaced the headers')
  t.same(received('/medecins/secret'), [])
})

t.test('spoofing straight at the gateway from an address that is not a trusted proxy', async (t) => {
  const spoofed = { 'X-Original-URI': '/public/x', 'X-Forwarded-Uri': '/public/x', 'X-Original-Method': 'GET', 'X-Forwarded-Method': 'GET' }
  const untrusted = await direct('/_psc/auth', spoofed, '127.0.0.2')
  t.equal(untrusted.status, 400, 'the headers are ignored: nothing says which request is asked about')
  t.equal(untrusted.headers['x-psc-error'], 'PSC_ERR_FORWARD_AUTH_UNTRUSTED_PEER')
  const pathForm = await direct('/_psc/auth/medecins/secret', spoofed, '127.0.0.2')
  t.equal(pathForm.status, 401, 'the path form asks about /medecins/secret whatever the headers say')
  const trusted = await direct('/_psc/auth', spoofed, '127.0.0.1')
  t.equal(trusted.status, 200, 'the same headers from the trusted proxy are believed (public route)')
  const conflicting = await direct('/_psc/auth', { ...spoofed, 'X-Original-URI': '/medecins/secret' }, '127.0.0.1')
  t.equal(conflicting.status, 400, 'two spellings that disagree: refused')
  t.equal(conflicting.headers['x-psc-error'], 'PSC_ERR_FORWARD_AUTH_CONFLICT')
  const traversal = await direct('/_psc/auth', { 'X-Original-URI': '/public/../medecins/secret', 'X-Original-Method': 'GET' }, '127.0.0.1')
  t.equal(traversal.status, 401, 'the original URI is normalised as in proxy mode: /medecins/secret')
  t.match(audit.findLast((e) => e.event === 'access' && e.path === '/_psc/auth'), { route: 'medecins-civils', detail: /forward-auth GET \/medecins\/secret/ })
})
