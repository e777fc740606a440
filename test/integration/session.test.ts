// Session life over real HTTP: idle and absolute expiry (with a controlled clock), key rotation,
// fixation, acr levels, client authentication methods, header encodings.
import { sign } from '@fastify/cookie'
import t from 'tap'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { CIBA_YAML } from '../helpers/ciba.js'
import { startStack } from '../helpers/stack.js'

const MEDECIN = '899700218896'
const MIN = 60_000

function sessionCookie(client: BrowserLikeClient, url: string): string {
  const value = client.cookieValue(url, 'psc_session')
  if (!value) throw new Error('no session cookie')
  return decodeURIComponent(value)
}

t.test('idle timeout ends a session that was not used, and is audited', async (t) => {
  let clock = Date.now()
  const stack = await startStack({ idleTimeout: '30m', absoluteTimeout: '8h', now: () => clock })
  t.teardown(() => stack.close())
  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${stack.url}/`, MEDECIN)

  clock += 29 * MIN
  t.equal((await client.get(`${stack.url}/?format=json`)).status, 200, 'used within the idle timeout')
  clock += 29 * MIN
  t.equal((await client.get(`${stack.url}/?format=json`)).status, 200, 'use keeps it alive')
  clock += 31 * MIN
  const expired = await client.get(`${stack.url}/dossier`)
  t.equal(expired.status, 302)
  t.match(expired.headers.location, /^\/_psc\/login\?rd=/)
  t.ok(stack.audit.some((e) => e.event === 'logout' && e.cause === 'idle-expired'))

  // The login page says why the practitioner is there, in French (English by Accept-Language).
  const notice = await client.get(new URL(expired.headers.location!, stack.url).href)
  t.equal(notice.status, 401)
  t.match(notice.body, '<h1>Session expirée</h1>')
  t.match(notice.body, 'Votre session a expiré (inactivité prolongée ou durée maximale atteinte)')
  const again = /<a class="button" href="([^"]+)">Se connecter<\/a>/.exec(notice.body)?.[1]?.replaceAll('&amp;', '&')
  t.equal(again, '/_psc/login?rd=%2Fdossier', 'a button to log in again, back to the same page')
  const toPsc = await client.get(new URL(again!, stack.url).href)
  t.equal(toPsc.status, 302)
  t.match(toPsc.headers.location, /\/protocol\/openid-connect\/auth\?/, 'the button goes on to PSC')
  const english = await client.get(new URL(expired.headers.location!, stack.url).href, {
    headers: { 'Accept-Language': 'en' },
  })
  t.match(english.body, '<h1>Session expired</h1>')
  t.equal(
    (await client.get(`${stack.url}/_psc/login?rd=%2Fdossier`)).status,
    302,
    'a plain login goes straight to PSC, no notice',
  )
})

t.test('session expired with the e-CPS choice page: the notice is on the login page', async (t) => {
  let clock = Date.now()
  const stack = await startStack({ idleTimeout: '30m', absoluteTimeout: '8h', now: () => clock, pscYaml: CIBA_YAML() })
  t.teardown(() => stack.close())
  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${stack.url}/_psc/login?rd=%2F&via=psc`, MEDECIN)
  t.equal((await client.get(`${stack.url}/?format=json`)).status, 200, 'logged in')
  clock += 31 * MIN
  const page = await client.follow(`${stack.url}/dossier`)
  t.equal(page.status, 200)
  t.match(page.body, /<p class="notice" id="session-expired" role="status">Votre session a expiré/)
  t.match(page.body, 'Recevoir une notification sur mon application e-CPS')
  const fresh = await new BrowserLikeClient().follow(`${stack.url}/dossier`)
  t.notMatch(fresh.body, 'session-expired', 'not for a first visit')
})

t.test('absolute timeout ends a session however busy it is', async (t) => {
  let clock = Date.now()
  const stack = await startStack({ idleTimeout: '30m', absoluteTimeout: '1h', now: () => clock })
  t.teardown(() => stack.close())
  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${stack.url}/`, MEDECIN)
  for (let i = 0; i < 3; i++) {
    clock += 19 * MIN
    t.equal((await client.get(`${stack.url}/?format=json`)).status, 200, `busy at ${(i + 1) * 19} min`)
  }
  clock += 4 * MIN
  const res = await client.get(`${stack.url}/dossier`)
  t.equal(res.status, 302, 'past one hour: login again')
  t.ok(stack.audit.some((e) => e.event === 'logout' && e.cause === 'absolute-expired'))
})

t.test('key rotation: the first secret signs, the others still verify, a removed one does not', async (t) => {
  const NEW = 'new-session-secret-0123456789abcdef-NEW1'
  const OLD = 'old-session-secret-0123456789abcdef-OLD1'
  const REMOVED = 'removed-session-secret-0123456789abcdef-X'
  const stack = await startStack({ secrets: [NEW, OLD] })
  t.teardown(() => stack.close())
  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${stack.url}/`, MEDECIN)
  const signed = sessionCookie(client, stack.url)
  const id = signed.slice(0, signed.lastIndexOf('.'))
  t.equal(signed, sign(id, NEW), 'new cookies are signed with the first secret')

  client.setCookie(stack.url, { name: 'psc_session', value: sign(id, OLD) })
  const withOld = await client.get(`${stack.url}/?format=json`)
  t.equal(withOld.status, 200, 'a cookie signed with an older secret is accepted')
  t.match(String(withOld.headers['set-cookie']), /psc_session=/, 'and re-issued')
  t.equal(sessionCookie(client, stack.url), sign(id, NEW), 're-signed with the first secret')

  client.setCookie(stack.url, { name: 'psc_session', value: sign(id, REMOVED) })
  t.equal((await client.get(`${stack.url}/dossier`)).status, 302, 'a removed secret no longer verifies')
})

t.test('a session id planted before login is never promoted; each login gets a new id', async (t) => {
  const stack = await startStack()
  t.teardown(() => stack.close())
  const client = new BrowserLikeClient()
  const planted = sign('A'.repeat(43), 'attacker-does-not-know-the-secret-000000')
  client.setCookie(stack.url, { name: 'psc_session', value: planted })
  await loginThroughEmulator(client, `${stack.url}/`, MEDECIN)
  const first = sessionCookie(client, stack.url)
  t.not(first, planted)
  // PSC keeps its own SSO session: a second login goes through without the practitioner list.
  const again = await client.follow(`${stack.url}/_psc/login?rd=/`)
  t.equal(again.status, 200)
  const second = sessionCookie(client, stack.url)
  t.not(second, first, 'a new login, a new id')
  const oldId = first.slice(0, first.lastIndexOf('.'))
  t.equal(await stack.gateway.sessions.store.get(oldId), undefined, 'the previous session is ended')
})

t.test('acr: a higher level than required is accepted, a lower one refused', async (t) => {
  const strict = await startStack({ acr: 'eidas2' })
  t.teardown(() => strict.close())
  const eidas1 = new BrowserLikeClient()
  const refused = await loginThroughEmulator(eidas1, `${strict.url}/`, MEDECIN)
  t.equal(refused.status, 403)
  t.match(refused.body, /niveau de sécurité exigé/)
  t.notMatch(refused.body, /eidas1/, 'the technical detail is not on the page')
  const failed = strict.audit.find((e) => e.event === 'login' && e.outcome === 'failed')
  t.match(
    failed,
    { reason: 'PSC_ERR_LOGIN_ACR_TOO_LOW', detail: /eidas1 is below the required eidas2/, idNat: MEDECIN },
    'a refusal after PSC authenticated the practitioner names them',
  )
  t.notOk(eidas1.cookieValue(strict.url, 'psc_session'), 'no session')
  const eidas3 = new BrowserLikeClient()
  const accepted = await loginThroughEmulator(eidas3, `${strict.url}/`, '500000001815646/CPAT00045')
  t.equal(accepted.status, 200, 'eidas3 satisfies eidas2')
})

t.test('client_secret_post works as well as client_secret_basic', async (t) => {
  const stack = await startStack({ clientAuth: 'client_secret_post' })
  t.teardown(() => stack.close())
  const client = new BrowserLikeClient()
  const landed = await loginThroughEmulator(client, `${stack.url}/`, MEDECIN)
  t.equal(landed.status, 200)
})

t.test('latin1 header encoding and renamed or added identity headers', async (t) => {
  const stack = await startStack({
    encoding: 'latin1',
    headersYaml: '  identity:\n    X-PSC-IdNat: false\n    Remote-User: idNat\n    X-PSC-Structure: structureName\n',
  })
  t.teardown(() => stack.close())
  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${stack.url}/`, '0012345678')
  const res = await client.get(`${stack.url}/?format=json`)
  const seen = JSON.parse(res.body) as { headers: Record<string, string> }
  // Node decodes header bytes as latin1: "œ" has no latin1 byte and becomes "?".
  t.equal(seen.headers['x-psc-given-name'], 'Anne-S?ur')
  t.equal(seen.headers['remote-user'], '0012345678')
  t.equal(seen.headers['x-psc-idnat'], undefined, 'a default header removed with false')
  t.ok(seen.headers['x-psc-structure'], 'an added header')

  // A client cannot set a renamed identity header either.
  const spoof = await fetch(`${stack.url}/public/x?format=json`, {
    headers: { 'Remote-User': 'forged', REMOTE_USER: 'forged' },
  })
  t.notOk(JSON.stringify(await spoof.json()).includes('forged'))
})
