// Forward-auth behind a real Caddy (Debian's), with the Caddyfile `psc-gateway forward-auth caddy`
// writes, in front of a gateway process and an echo application: every configured header is set
// by the gateway or cleared, whatever the client sent; the assertion never goes to a browser.
import t from 'tap'
import { startCaddy, type RunningCaddy } from '../helpers/caddy.js'
import { checkForwardAuthContract } from '../helpers/forward-auth-checks.js'
import { startForwardAuthStack, type ForwardAuthStack } from '../helpers/forward-auth-stack.js'

let stack: ForwardAuthStack
let caddy: RunningCaddy

t.before(async () => {
  stack = await startForwardAuthStack('caddy')
  caddy = await startCaddy(stack.proxyPort, stack.generated, stack.contract.hostname)
})
t.teardown(async () => {
  await caddy?.close()
  await stack?.close()
})

t.test('the generated Caddyfile keeps the header contract', async (t) => {
  await checkForwardAuthContract(t, stack, caddy.url, true, () => caddy.output().slice(-2000))
})
