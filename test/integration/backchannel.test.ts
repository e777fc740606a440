// Back-channel logout end to end: the practitioner logs out at PSC (not through the gateway); PSC
// calls the gateway server to server, and the gateway's session is gone at the next request.
import t from 'tap'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { CLIENT_ID, startStack } from '../helpers/stack.js'

t.test('a logout at PSC ends the gateway session through the back channel', async (t) => {
  const stack = await startStack()
  t.teardown(() => stack.close())
  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${stack.url}/`, '899700218896')
  t.equal((await client.get(`${stack.url}/?format=json`)).status, 200, 'logged in')

  // The practitioner ends the PSC session elsewhere (another application, the PSC portal).
  const logoutAtPsc = new URL(`${stack.emulator!.issuer}/protocol/openid-connect/logout`)
  logoutAtPsc.searchParams.set('client_id', CLIENT_ID)
  logoutAtPsc.searchParams.set('post_logout_redirect_uri', `${stack.url}/_psc/logged-out`)
  const landed = await client.follow(logoutAtPsc.href)
  t.equal(new URL(landed.url).pathname, '/_psc/logged-out')

  const deadline = Date.now() + 5000
  let status = 200
  while (status === 200 && Date.now() < deadline) {
    status = (await client.get(`${stack.url}/dossier`)).status
    if (status === 200) await new Promise((r) => setTimeout(r, 100))
  }
  t.equal(status, 302, 'the gateway session ended: back to the login')
  t.ok(
    stack.audit.some((e) => e.event === 'logout' && (e as { cause?: string }).cause === 'backchannel'),
    'audited',
  )
})

t.test('forged, malformed or missing logout tokens are refused with 400', async (t) => {
  const stack = await startStack()
  t.teardown(() => stack.close())
  const { SignJWT, generateKeyPair } = await import('jose')
  const { privateKey } = await generateKeyPair('RS256')
  const forged = await new SignJWT({ sid: 'x', events: { 'http://schemas.openid.net/event/backchannel-logout': {} } })
    .setProtectedHeader({ alg: 'RS256', kid: 'attacker' })
    .setIssuer(stack.emulator!.issuer)
    .setAudience(CLIENT_ID)
    .setIssuedAt()
    .setJti('j1')
    .sign(privateKey)
  for (const body of [`logout_token=${forged}`, 'logout_token=not.a.jwt', '', 'other=1']) {
    const res = await fetch(`${stack.url}/_psc/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    })
    t.equal(res.status, 400, body.slice(0, 30))
    t.match(await res.json(), { error: 'invalid_request' })
  }
})
