// Logout with the session cookie sent twice, over real HTTP (raw requests: the bytes a browser with
// a planted cookie sends): the gateway cannot tell which session is the practitioner's, so it ends
// none, keeps both cookies, does not send the browser to PSC, and its page says so. Never half: a
// cleared cookie with the server session still alive.
import t from 'tap'
import { sign } from '@fastify/cookie'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { rawRequest } from '../helpers/raw-http.js'
import { startStack, type Stack } from '../helpers/stack.js'

const MEDECIN = '899700218896'
let stack: Stack
t.before(async () => {
  stack = await startStack()
})
t.teardown(() => stack?.close())

function logoutWith(cookieHeader: string, language: string) {
  const host = new URL(stack.url).host
  return rawRequest(
    stack.url,
    `POST /_psc/logout HTTP/1.1\r\nHost: ${host}\r\nCookie: ${cookieHeader}\r\nSec-Fetch-Site: same-origin\r\n` +
      `Origin: ${stack.url}\r\nAccept: text/html\r\nAccept-Language: ${language}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
  )
}

t.test(
  'logout with two session cookies: nothing ended, nothing cleared, PSC not told, and the page says so',
  async (t) => {
    const client = new BrowserLikeClient()
    await loginThroughEmulator(client, `${stack.url}/`, MEDECIN)
    const good = client.cookieValue(stack.url, 'psc_session')!
    const planted = encodeURIComponent(sign('B'.repeat(43), 'attacker-secret-0123456789abcdef-XYZ'))
    for (const [header, language] of [
      [`psc_session=${planted}; psc_session=${good}`, 'fr-FR,fr;q=0.9'],
      [`psc_session=${good}; psc_session=${planted}`, 'en'],
    ] as const) {
      const { response } = await logoutWith(header, language)
      t.equal(response?.status, 400, 'refused with its own code')
      t.equal(response?.headers.location, undefined, "not sent to PSC's logout, nor to the logged-out page")
      t.same(
        response?.setCookie.filter((c) => c.startsWith('psc_session=')),
        [],
        'no cookie cleared: clearing one would leave the other session alive',
      )
      t.match(response?.body, language === 'en' ? /you are not logged out/ : /vous n(&#39;|')êtes pas déconnecté/)
      t.match(
        response?.body,
        language === 'en'
          ? /clear this site(&#39;|')s cookies or close the browser/
          : /effacez les cookies de ce site ou fermez complètement le navigateur/,
      )
      t.notMatch(response?.body, /PSC_ERR_|psc_session/, 'no technical detail on the page')
    }
    const still = await client.get(`${stack.url}/?format=json`)
    t.equal(still.status, 200, 'the session the page says is open is indeed open')
    const audited = stack.audit.filter(
      (e) => e.event === 'access' && e.reason === 'PSC_ERR_LOGOUT_DUPLICATE_SESSION_COOKIE',
    )
    t.equal(audited.length, 2, 'each refusal is audited with its code')
    t.equal(stack.audit.filter((e) => e.event === 'logout').length, 0, 'no logout recorded')

    // With one cookie again, logout ends the session and tells PSC.
    const { response } = await logoutWith(`psc_session=${good}`, 'fr')
    t.equal(response?.status, 302)
    t.match(response?.headers.location, new RegExp(`^${stack.emulator!.issuer}`), "sent to PSC's logout")
    t.equal((await client.get(`${stack.url}/?format=json`)).status, 302, 'and the session is over')
  },
)
