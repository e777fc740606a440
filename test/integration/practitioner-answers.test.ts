// What a practitioner reads: every answer of the redesigned request path, over real HTTP against
// the emulator, in French (English by Accept-Language), with the technical detail in the audit and
// never on the page.
import t from 'tap'
import { BrowserLikeClient, parseForms } from '../helpers/browser-like-client.js'
import { isEmulatorLoginPage, loginThroughEmulator } from '../helpers/emulator-login.js'
import { rawGet } from '../helpers/raw-http.js'
import { startStack, type Stack } from '../helpers/stack.js'

const MEDECIN = '899700218896'
const PHARMACIEN = '899700367915'

let stack: Stack
t.before(async () => {
  stack = await startStack({ idleTimeout: '2s' })
})
t.teardown(() => stack.close())

async function loggedIn(idNat: string, startPath = '/') {
  const client = new BrowserLikeClient()
  const landed = await loginThroughEmulator(client, stack.url + startPath, idNat)
  return { client, landed }
}

const accessEvents = (path: string) => stack.audit.filter((e) => e.event === 'access' && e.path === path)

t.test("a refusal says, in French, who the page is for and what the practitioner's profile is", async (t) => {
  const { client } = await loggedIn(PHARMACIEN)
  const res = await client.get(`${stack.url}/medecins/planning`)
  t.equal(res.status, 403)
  t.match(res.body, 'Cette page est réservée aux professions suivantes : Médecin.')
  t.match(res.body, 'Votre profil Pro Santé Connect : Pharmacien.')
  t.notMatch(res.body, /not in|Motif|\[10\]/, 'no technical reason on the page')
  t.match(res.body, /href="\/"[^>]*>Page d&#39;accueil|href="\/"/, 'a way back')
  t.match(res.body, /Référence de la requête : [0-9a-f-]{36}/)
  const event = accessEvents('/medecins/planning').at(-1)
  t.match(event, {
    decision: 'deny',
    reason: 'PSC_ERR_DENIED_PROFESSION',
    detail: 'profession 21 not in [10]',
    idNat: PHARMACIEN,
  })

  const english = await client.get(`${stack.url}/medecins/planning`, {
    headers: { 'Accept-Language': 'en-GB,en;q=0.9,fr;q=0.5' },
  })
  t.equal(english.status, 403)
  t.match(english.body, 'This page is reserved for: Médecin.')
  t.match(english.body, '<html lang="en">')
})

t.test('an invalid address gets a French 400 page, the reason only in the audit', async (t) => {
  const { response } = await rawGet(stack.url, '/a/%2e%2e%2f%2e%2e/etc', ['Accept: text/html'])
  t.equal(response?.status, 400)
  t.match(response?.body ?? '', 'Requête invalide')
  t.notMatch(response?.body ?? '', /encoded|segment|slash/i, 'no English reason on the page')
  const event = stack.audit.filter((e) => e.event === 'access' && e.reason === 'PSC_ERR_INVALID_TARGET').at(-1)
  t.ok(
    event && 'detail' in event && typeof event.detail === 'string' && event.detail.length > 0,
    'the technical reason is in the audit',
  )
})

t.test('a failed callback explains in French and offers to log in again', async (t) => {
  const client = new BrowserLikeClient()
  const res = await client.get(`${stack.url}/_psc/callback?state=forged&code=x`)
  t.equal(res.status, 400)
  t.match(res.body, 'La connexion n&#39;a pas abouti')
  t.match(res.body, 'ne correspond à aucune connexion commencée dans ce navigateur')
  t.match(res.body, /href="\/_psc\/login"/)
  t.notMatch(res.body, /state does not match/)
  const failed = stack.audit.filter((e) => e.event === 'login' && e.outcome === 'failed').at(-1)
  t.match(failed, { reason: 'PSC_ERR_LOGIN_UNKNOWN_STATE', detail: /state does not match/ })
  const access = accessEvents('/_psc/callback').at(-1)
  t.match(access, { decision: 'login', reason: 'PSC_ERR_LOGIN_UNKNOWN_STATE' }, 'a failed callback is never an allow')
})

t.test('the favicon of an anonymous browser starts no login', async (t) => {
  const before = stack.audit.filter((e) => e.event === 'login' && e.outcome === 'started').length
  const { response } = await rawGet(stack.url, '/favicon.ico', [
    'Sec-Fetch-Mode: no-cors',
    'Sec-Fetch-Dest: image',
    'Accept: image/avif,image/webp,*/*',
  ])
  t.equal(response?.status, 401)
  t.equal(response?.headers.location, undefined, 'no redirect to the login')
  const after = stack.audit.filter((e) => e.event === 'login' && e.outcome === 'started').length
  t.equal(after, before, 'no login start audited')
  t.match(accessEvents('/favicon.ico').at(-1), { decision: 'login', reason: 'PSC_ERR_LOGIN_REQUIRED', status: 401 })
})

t.test('a deep link whose query holds %20 and %2F survives the login', async (t) => {
  const { landed } = await loggedIn(MEDECIN, '/dossiers/recherche?q=jean%20dupont&f=a%2Fb')
  t.equal(landed.status, 200)
  const url = new URL(landed.url)
  t.equal(url.pathname + url.search, '/dossiers/recherche?q=jean%20dupont&f=a%2Fb')
})

t.test('another site cannot log a practitioner out', async (t) => {
  const { client } = await loggedIn(MEDECIN)
  // A cross-site <img> or link: the browser says where the request comes from.
  const crossSite = await client.get(`${stack.url}/_psc/logout`, {
    headers: { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors' },
  })
  t.equal(crossSite.status, 200, 'a confirmation page, not a logout')
  t.match(crossSite.body, /<form method="post" action="\/_psc\/logout">/)
  t.equal((await client.get(`${stack.url}/dossier/1`)).status, 200, 'still logged in')
  const forged = await client.postForm(
    `${stack.url}/_psc/logout`,
    {},
    { headers: { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' } },
  )
  t.equal(forged.status, 403)
  t.match(forged.body, 'venait d&#39;un autre site')
  t.equal((await client.get(`${stack.url}/dossier/1`)).status, 200, 'still logged in after a cross-site POST')
  // The confirmation form, posted from the gateway's own page, logs out.
  const form = parseForms(crossSite.body, `${stack.url}/_psc/logout`)[0]!
  const confirmed = await client.postForm(form.action, form.fields, {
    headers: { Origin: stack.url, 'Sec-Fetch-Site': 'same-origin' },
  })
  t.equal(confirmed.status, 302)
  t.equal((await client.get(`${stack.url}/dossier/1`)).status, 302, 'logged out')
})

t.test('a form posted after the session expired says its data was not sent', async (t) => {
  const { client } = await loggedIn(MEDECIN)
  await new Promise((r) => setTimeout(r, 2300)) // time passing: past idleTimeout (2s)
  const res = await client.postForm(
    `${stack.url}/dossier/1/notes`,
    { note: 'tension 12/8' },
    { headers: { Origin: stack.url } },
  )
  t.equal(res.status, 401)
  t.match(res.body, 'n&#39;ont pas été transmises à l&#39;application')
  t.match(res.body, /href="\/_psc\/login\?rd=/)
  t.match(accessEvents('/dossier/1/notes').at(-1), { decision: 'login', reason: 'PSC_ERR_LOGIN_REQUIRED_FORM_LOST' })
})

t.test('a session cookie sent twice is refused, with a page that says what to do', async (t) => {
  const { client } = await loggedIn(MEDECIN)
  const cookie = client.cookies(stack.url).find((c) => c.name === 'psc_session')!
  const { response } = await rawGet(stack.url, '/dossier/2', [
    `Cookie: psc_session=${cookie.value}; psc_session=planted.value`,
    'Sec-Fetch-Mode: navigate',
    'Accept: text/html',
  ])
  t.equal(response?.status, 400)
  t.match(response?.body ?? '', 'Cookies de session en double')
  const reversed = await rawGet(stack.url, '/dossier/2', [
    `Cookie: psc_session=planted.value; other=1; psc_session=${cookie.value}`,
    'Sec-Fetch-Mode: navigate',
  ])
  t.equal(reversed.response?.status, 400, 'whichever comes first')
  const single = await rawGet(stack.url, '/dossier/2', [
    `Cookie: xpsc_session=1; psc_session=${cookie.value}`,
    'Sec-Fetch-Mode: navigate',
  ])
  t.equal(single.response?.status, 200, 'a cookie whose name ends the same is another cookie')
})

t.test('a login started on another name of the gateway ends logged in, on the public host', async (t) => {
  const client = new BrowserLikeClient()
  // The stack's publicUrl is http://127.0.0.1:<port>; "localhost" is another name of the same server.
  const other = stack.url.replace('127.0.0.1', 'localhost')
  const first = await client.get(`${other}/dossier/7?x=1`)
  t.equal(first.status, 302)
  t.equal(
    first.headers.location,
    `${stack.url}/dossier/7?x=1`,
    'sent to the same page on the public host before any login',
  )
  const page = await client.follow(`${other}/dossier/7?x=1`)
  t.ok(isEmulatorLoginPage(page))
  const landed = await loginThroughEmulator(client, `${other}/dossier/7?x=1`, MEDECIN)
  t.equal(landed.status, 200)
  t.equal(landed.url, `${stack.url}/dossier/7?x=1`)
})
