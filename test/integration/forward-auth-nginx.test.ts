// Forward-auth behind a real nginx (Debian's, auth_request) with the server block
// `psc-gateway forward-auth nginx` writes, in front of a gateway process and an echo application:
// login through the PSC emulator, allowed, refused, logout; every configured header set by the
// gateway or cleared whatever the client sent; the assertion never handed to a browser; spoofing
// attempts (through nginx, and straight at the gateway from an address that is not a trusted proxy).
import t from 'tap'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { checkForwardAuthContract, checkLoginOnPublicHost, direct } from '../helpers/forward-auth-checks.js'
import { MEDECIN, startForwardAuthStack, type ForwardAuthStack } from '../helpers/forward-auth-stack.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { until } from '../helpers/gateway-process.js'
import { serverBody, startNginx, type RunningNginx } from '../helpers/nginx.js'

let nginx: RunningNginx
let stack: ForwardAuthStack

t.before(async () => {
  stack = await startForwardAuthStack('nginx')
  nginx = await startNginx(stack.proxyPort, serverBody(stack.generated))
})
t.teardown(async () => {
  await nginx?.close()
  await stack?.close()
})

const authLines = () => stack.audit().filter((e) => e.event === 'access' && e.path === '/_psc/auth')
/** The audit line of the forward-auth decision `act` leads to (the process prints it a little later). */
async function authLineOf(route: string, act: () => Promise<unknown>): Promise<Record<string, unknown> | undefined> {
  const before = authLines().length
  await act()
  const found = () =>
    authLines()
      .slice(before)
      .findLast((e) => e.route === route)
  await until(`the audit line of a forward-auth decision on ${route}`, async () => found() !== undefined, 5000)
  return found()
}

t.test('the generated server block keeps the header contract (nginx cannot clear by prefix)', async (t) => {
  await checkForwardAuthContract(t, stack, nginx.url, false, () => nginx.errorLog().slice(-2000))
})

t.test('each decision is an access line of the audit, about the original request', async (t) => {
  t.match(await authLineOf('medecins-civils', () => new BrowserLikeClient().get(`${nginx.url}/medecins/dossier?x=1`)), {
    decision: 'login',
    reason: 'PSC_ERR_LOGIN_REQUIRED',
    route: 'medecins-civils',
    detail: /^forward-auth GET \/medecins\/dossier/,
  })
  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${nginx.url}/medecins/dossier`, MEDECIN)
  t.match(
    await authLineOf('pharmacie', async () => t.equal((await client.get(`${nginx.url}/pharmacie/stock`)).status, 403)),
    { decision: 'deny', reason: 'PSC_ERR_DENIED_PROFESSION', idNat: MEDECIN, route: 'pharmacie' },
  )
  const out = await client.follow(`${nginx.url}/_psc/logout`)
  t.equal(out.status, 200)
  const after = await client.get(`${nginx.url}/medecins/dossier`)
  t.equal(after.status, 302, 'after logout, the login again')
  t.match(after.headers.location, /\/_psc\/login\?rd=/)
})

t.test('spoofing through nginx: the original URI is what nginx says, not what the client says', async (t) => {
  const client = new BrowserLikeClient()
  const res = await client.get(`${nginx.url}/medecins/secret`, {
    headers: {
      'X-Original-URI': '/public/x',
      'X-Forwarded-Uri': '/public/x',
      'X-Original-URL': 'http://elsewhere.example/public/x',
      'X-Original-Method': 'GET',
      'X-Forwarded-Host': 'elsewhere.example',
    },
  })
  t.equal(res.status, 302, 'still the login: nginx replaced the headers')
  t.same(stack.received('/medecins/secret'), [])
})

t.test('spoofing straight at the gateway from an address that is not a trusted proxy', async (t) => {
  const spoofed = {
    'X-Original-URI': '/public/x',
    'X-Forwarded-Uri': '/public/x',
    'X-Original-Method': 'GET',
    'X-Forwarded-Method': 'GET',
  }
  const untrusted = await direct(`${stack.gatewayUrl}/_psc/auth`, spoofed, '127.0.0.2')
  t.equal(untrusted.status, 400, 'the headers are ignored: nothing says which request is asked about')
  t.equal(untrusted.headers['x-psc-error'], 'PSC_ERR_FORWARD_AUTH_UNTRUSTED_PEER')
  const pathForm = await direct(`${stack.gatewayUrl}/_psc/auth/medecins/secret`, spoofed, '127.0.0.2')
  t.equal(pathForm.status, 401, 'the path form asks about /medecins/secret whatever the headers say')
  const trusted = await direct(`${stack.gatewayUrl}/_psc/auth`, spoofed, '127.0.0.1')
  t.equal(trusted.status, 200, 'the same headers from the trusted proxy are believed (public route)')
  const conflicting = await direct(
    `${stack.gatewayUrl}/_psc/auth`,
    { ...spoofed, 'X-Original-URI': '/medecins/secret' },
    '127.0.0.1',
  )
  t.equal(conflicting.status, 400, 'two spellings that disagree: refused')
  t.equal(conflicting.headers['x-psc-error'], 'PSC_ERR_FORWARD_AUTH_CONFLICT')
  const line = await authLineOf('medecins-civils', async () => {
    const traversal = await direct(
      `${stack.gatewayUrl}/_psc/auth`,
      { 'X-Original-URI': '/public/../medecins/secret', 'X-Original-Method': 'GET' },
      '127.0.0.1',
    )
    t.equal(traversal.status, 401, 'the original URI is normalised as in proxy mode: /medecins/secret')
  })
  t.match(line, { route: 'medecins-civils', detail: /forward-auth GET \/medecins\/secret/ })
})

t.test(
  'a protected page asked on another name of the proxy: the login URL is on the public host, and the login ends there',
  async (t) => {
    await checkLoginOnPublicHost(t, stack, nginx.url)
  },
)
