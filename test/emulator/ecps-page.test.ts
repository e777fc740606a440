// The emulator's e-CPS page over real HTTP: a CIBA request sent to the emulator's backchannel
// endpoint shows on the page with the seconds it has left, and leaves the page once it expired.
import t from 'tap'
import { CIBA_PATH } from '../../dev/emulator/ciba-backchannel.js'
import { startEmulator, type RunningEmulator } from '../../dev/emulator/index.js'

const SECRET = 'ecps-page-test-secret'
const MEDECIN = '899700218896'

async function askPsc(
  emulator: RunningEmulator,
  bindingMessage: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${emulator.issuer}${CIBA_PATH}`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`gateway:${SECRET}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      scope: 'openid scope_all',
      acr_values: 'eidas1',
      login_hint: MEDECIN,
      binding_message: bindingMessage,
      channel: 'MOBILE',
    }),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

const ecps = async (emulator: RunningEmulator) => (await fetch(`${emulator.origin}/ecps?idNat=${MEDECIN}`)).text()

t.test('a pending request shows the seconds it has left (not NaN), then expires off the page', async (t) => {
  const emulator = await startEmulator({
    port: 0,
    clients: [
      {
        clientId: 'gateway',
        clientSecret: SECRET,
        redirectUris: ['http://127.0.0.1:1/_psc/callback'],
        postLogoutRedirectUris: [],
        serviceName: 'DPI du CH de Test',
      },
    ],
    ciba: { expiresInSeconds: 2, intervalSeconds: 1 },
  })
  t.teardown(() => emulator.close())
  const asked = await askPsc(emulator, '42')
  t.equal(asked.status, 200, JSON.stringify(asked.body))
  t.equal(asked.body.expires_in, 2)

  const page = await ecps(emulator)
  t.match(page, '<p class="code">42</p>')
  t.notMatch(page, 'NaN')
  const seconds = Number(/expire dans (\d+) s/.exec(page)?.[1])
  t.ok(seconds >= 1 && seconds <= 2, `expire dans ${seconds} s`)
  t.equal(emulator.ciba.pending(MEDECIN)[0]!.expiresAt > Date.now(), true, 'an expiry in the future')

  await new Promise((r) => setTimeout(r, 2300)) // time passing: past the request's expiry (2 s)
  const later = await ecps(emulator)
  t.match(later, 'id="empty"', 'the expired request is no longer shown')
  t.same(emulator.ciba.pending(MEDECIN), [])
})
