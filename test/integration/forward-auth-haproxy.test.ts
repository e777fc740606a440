// Forward-auth behind a real HAProxy (Debian's 2.6, no auth_request) with the configuration and
// the Lua action `psc-gateway forward-auth haproxy` / `haproxy-lua` write, in front of a gateway
// process and an echo application: every configured header is set by the gateway or cleared,
// whatever the client sent; the assertion never goes to a browser.
import t from 'tap'
import { checkForwardAuthContract, checkLoginOnPublicHost } from '../helpers/forward-auth-checks.js'
import { startForwardAuthStack, type ForwardAuthStack } from '../helpers/forward-auth-stack.js'
import { startHaproxy, type RunningHaproxy } from '../helpers/haproxy.js'

let stack: ForwardAuthStack
let haproxy: RunningHaproxy

t.before(async () => {
  stack = await startForwardAuthStack('haproxy')
  haproxy = await startHaproxy(stack.proxyPort, stack.generated, stack.lua!)
})
t.teardown(async () => {
  await haproxy?.close()
  await stack?.close()
})

t.test('the generated configuration and Lua action keep the header contract', async (t) => {
  await checkForwardAuthContract(t, stack, haproxy.url, true, () => haproxy.output().slice(-2000))
})

t.test(
  'a protected page asked on another name of the proxy: the login URL is on the public host, and the login ends there',
  async (t) => {
    await checkLoginOnPublicHost(t, stack, haproxy.url)
  },
)

t.test('the gateway down: a 503 page, never the application', async (t) => {
  await stack.gateway.stop()
  const res = await fetch(`${haproxy.url}/medecins/dossier`)
  t.equal(res.status, 503)
  t.match(await res.text(), /indisponible/)
  t.same(
    stack.received('/medecins/dossier').filter((e) => e.headers['x-psc-idnat'] === undefined),
    [],
    "nothing forwarded without the gateway's answer",
  )
})
