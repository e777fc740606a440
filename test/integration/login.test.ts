// The whole login over real HTTP: gateway ⇄ PSC emulator (oidc-provider) ⇄ demo upstream.
import t from 'tap'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { CLIENT_SECRET, SESSION_SECRET, startStack, type Stack } from '../helpers/stack.js'

interface Echo {
  method: string
  url: string
  headers: Record<string, string>
  rawHeaders: string[]
}

const MEDECIN = '899700218896'
const PHARMACIEN = '899700367915'
const INFIRMIER_ADELI = '0012345678'
const TWO_EXERCICES = '899700412345'
const SLASH_IDNAT = '500000001815646/CPAT00045'
const ETUDIANT = '899700555555'

let stack: Stack
t.before(async () => {
  stack = await startStack()
})
t.teardown(() => stack.close())

async function loggedIn(idNat: string, startPath = '/') {
  const client = new BrowserLikeClient()
  const landed = await loginThroughEmulator(client, stack.url + startPath, idNat)
  return { client, landed }
}

async function echo(client: BrowserLikeClient, path: string): Promise<Echo> {
  const res = await client.get(`${stack.url + path + (path.includes('?') ? '&' : '?')}format=json`)
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.body.slice(0, 200)}`)
  return JSON.parse(res.body) as Echo
}

t.test('an anonymous browser is sent to the login with its return path', async (t) => {
  const client = new BrowserLikeClient()
  const res = await client.get(`${stack.url}/dossier/42?onglet=bio`)
  t.equal(res.status, 302)
  t.equal(res.headers.location, `/_psc/login?rd=${encodeURIComponent('/dossier/42?onglet=bio')}`)
  const login = await client.get(stack.url + res.headers.location)
  t.equal(login.status, 302)
  const authorize = new URL(login.headers.location ?? '')
  t.equal(authorize.origin + authorize.pathname, `${stack.emulator!.issuer}/protocol/openid-connect/auth`)
  t.equal(authorize.searchParams.get('acr_values'), 'eidas1')
  t.equal(authorize.searchParams.get('scope'), 'openid scope_all')
  t.equal(authorize.searchParams.get('code_challenge_method'), 'S256')
  t.equal(authorize.searchParams.get('response_type'), 'code')
  t.ok(authorize.searchParams.get('state'))
  t.ok(authorize.searchParams.get('nonce'))
  t.equal(authorize.searchParams.get('redirect_uri'), `${stack.url}/_psc/callback`)
})

t.test('an API caller gets 401 JSON, not a redirect', async (t) => {
  const res = await fetch(`${stack.url}/api/patients`, { headers: { accept: 'application/json' } })
  t.equal(res.status, 401)
  const body = (await res.json()) as { error: string; login: string }
  t.equal(body.error, 'PSC_ERR_LOGIN_REQUIRED')
  t.match(body.login, /^\/_psc\/login\?rd=/)
  const xhr = await fetch(`${stack.url}/api/patients`, { headers: { 'x-requested-with': 'XMLHttpRequest' } })
  t.equal(xhr.status, 401)
})

t.test('a médecin logs in, comes back to the page asked for, and the upstream gets the identity', async (t) => {
  const { client, landed } = await loggedIn(MEDECIN, '/dossier/42?onglet=bio')
  t.equal(landed.status, 200)
  t.equal(new URL(landed.url).pathname + new URL(landed.url).search, '/dossier/42?onglet=bio')
  t.match(landed.body, /Application métier de démonstration/)

  const cookie = client.cookies(stack.url).find((c) => c.name === 'psc_session')
  t.ok(cookie, 'session cookie set')
  t.equal(cookie?.httpOnly, true)
  t.equal(cookie?.sameSite, 'lax')
  t.equal(cookie?.secure, false, 'http public URL: no Secure flag')

  const seen = await echo(client, '/dossier/42')
  const h = seen.headers
  t.equal(h['x-psc-idnat'], MEDECIN)
  t.equal(h['x-psc-rpps'], '99700218896')
  t.equal(h['x-psc-family-name'], 'Lef%C3%A8vre-Dubois')
  t.equal(decodeURIComponent(h['x-psc-given-name'] ?? ''), 'Élodie')
  t.equal(h['x-psc-profession-code'], '10')
  t.equal(decodeURIComponent(h['x-psc-profession'] ?? ''), 'Médecin')
  t.equal(h['x-psc-category'], 'C')
  t.equal(h['x-psc-specialty'], 'SM26')
  t.equal(h['x-psc-acr'], 'eidas1')
  t.equal(h['x-psc-auth-mode'], 'CARD')
  t.equal(h['x-forwarded-for'], '127.0.0.1')
  t.equal(h['x-forwarded-proto'], 'http')
  t.match(h['x-request-id'], /^[0-9a-f-]{36}$/)
  t.notOk((h.cookie ?? '').includes('psc_session'), 'the session cookie is not forwarded upstream')
  t.equal(seen.url.split('?')[0], '/dossier/42')

  const me = await client.get(`${stack.url}/_psc/me`)
  t.equal(me.status, 200)
  const identity = (
    JSON.parse(me.body) as { identity: { idNat: string; exercices: Array<{ professionLabel: string }> } }
  ).identity
  t.equal(identity.idNat, MEDECIN)
  t.equal(identity.exercices[0]?.professionLabel, 'Médecin')
  t.notOk(/token/i.test(me.body), '/_psc/me shows no token')
})

t.test('identity values of every shipped practitioner reach the upstream intact', async (t) => {
  const cases: Array<[string, Record<string, string | undefined>]> = [
    [PHARMACIEN, { 'x-psc-profession-code': '21', 'x-psc-family-name': "D'Aubign%C3%A9" }],
    [
      INFIRMIER_ADELI,
      {
        'x-psc-idnat': INFIRMIER_ADELI,
        'x-psc-rpps': undefined,
        'x-psc-category': 'M',
        'x-psc-given-name': 'Anne-S%C5%93ur',
      },
    ],
    [TWO_EXERCICES, { 'x-psc-profession-code': '10', 'x-psc-acr': 'eidas2' }],
    [
      SLASH_IDNAT,
      { 'x-psc-idnat': SLASH_IDNAT, 'x-psc-rpps': undefined, 'x-psc-acr': 'eidas3', 'x-psc-auth-mode': 'MOBILE' },
    ],
  ]
  for (const [idNat, expected] of cases) {
    const { client } = await loggedIn(idNat)
    const h = (await echo(client, '/')).headers
    for (const [name, value] of Object.entries(expected)) t.equal(h[name], value, `${idNat}: ${name}`)
  }
})

t.test('route rules: profession, category and idNat conditions', async (t) => {
  const medecin = (await loggedIn(MEDECIN)).client
  const denied = await medecin.get(`${stack.url}/pharmacie/stock`)
  t.equal(denied.status, 403)
  t.match(denied.body, /Accès refusé/)
  t.match(denied.body, /réservée aux professions suivantes : Pharmacien/, 'says who the page is for')
  t.match(denied.body, /Élodie Lefèvre-Dubois/, 'says who is logged in')
  t.equal((await medecin.get(`${stack.url}/medecins/?format=json`)).status, 200)
  t.equal((await medecin.get(`${stack.url}/admin/?format=json`)).status, 200, 'listed idNat')

  const pharmacien = (await loggedIn(PHARMACIEN)).client
  t.equal((await pharmacien.get(`${stack.url}/pharmacie/stock?format=json`)).status, 200)
  t.equal((await pharmacien.get(`${stack.url}/medecins/`)).status, 403)
  t.equal((await pharmacien.get(`${stack.url}/admin/`)).status, 403, 'idNat not listed')

  const etudiant = (await loggedIn(ETUDIANT)).client
  t.equal((await etudiant.get(`${stack.url}/medecins/`)).status, 403, 'médecin but category E')

  const denial = stack.audit.find((e) => e.event === 'access' && e.decision === 'deny' && e.route === 'pharmacie')
  t.ok(denial, 'the denial is audited with its rule')
  t.match(denial, {
    status: 403,
    idNat: MEDECIN,
    method: 'GET',
    path: '/pharmacie/stock',
    reason: 'PSC_ERR_DENIED_PROFESSION',
  })
})

t.test('public routes need no login and still never pass client identity headers', async (t) => {
  const res = await fetch(`${stack.url}/public/info?format=json`, {
    headers: { 'X-PSC-IdNat': 'forged', 'x-psc-rpps': 'forged', X_PSC_IDNAT: 'forged', 'X-Forwarded-For': '6.6.6.6' },
  })
  t.equal(res.status, 200)
  const seen = (await res.json()) as Echo
  t.notOk(JSON.stringify(seen.rawHeaders).includes('forged'))
  t.equal(seen.headers['x-forwarded-for'], '127.0.0.1', 'untrusted X-Forwarded-For replaced')
})

t.test('spoofed identity headers are stripped for a logged-in user too', async (t) => {
  const { client } = await loggedIn(PHARMACIEN)
  const res = await client.get(`${stack.url}/?format=json`, {
    headers: { 'X-PSC-IdNat': MEDECIN, 'x-psc-profession-code': '10', X_Psc_Rpps: '99700218896', 'X-PSC-Extra': 'x' },
  })
  const seen = JSON.parse(res.body) as Echo
  t.equal(seen.headers['x-psc-idnat'], PHARMACIEN)
  t.equal(seen.headers['x-psc-profession-code'], '21')
  t.notOk(
    seen.rawHeaders.some((h) => /x_psc/i.test(h)),
    'underscore variant removed',
  )
  t.notOk(
    seen.rawHeaders.some((h) => /x-psc-extra/i.test(h)),
    'unknown header of the namespace removed',
  )
  t.equal(seen.rawHeaders.filter((h) => h.toLowerCase() === 'x-psc-idnat').length, 1, 'exactly one idNat header')
})

t.test('unmatched and reserved paths answer 404 and nothing is forwarded', async (t) => {
  const other = await fetch(`${stack.url}/_psc/anything`, { headers: { accept: 'application/json' } })
  t.equal(other.status, 404)
  const weird = await fetch(`${stack.url}/x`, { method: 'PROPFIND' })
  t.equal(weird.status, 404)
  const audited = stack.audit.filter((e) => e.event === 'access' && e.decision === 'reject' && e.status === 404)
  t.ok(audited.length >= 2)
})

t.test('a path that cannot be normalised is refused with 400 and a reason', async (t) => {
  const res = await fetch(`${stack.url}/public/..%2fadmin`, { headers: { accept: 'application/json' } })
  t.equal(res.status, 400)
  const body = (await res.json()) as { error: string; message: string; reason?: string }
  t.equal(body.error, 'PSC_ERR_INVALID_TARGET')
  t.match(body.message, /adresse/)
  t.equal(body.reason, undefined, 'the technical reason stays in the log and the audit')
  const audited = stack.audit.filter((e) => e.event === 'access' && e.reason === 'PSC_ERR_INVALID_TARGET').at(-1) as
    | { detail?: string }
    | undefined
  t.ok(audited?.detail, 'the audit has the technical reason')
  const html = await fetch(`${stack.url}/a%00b`)
  t.equal(html.status, 400)
  t.notMatch(await html.text(), /at .*\.ts:\d+/, 'no stack trace')
})

t.test('callback: a wrong, missing or replayed state is refused', async (t) => {
  const client = new BrowserLikeClient()
  const noState = await client.get(`${stack.url}/_psc/callback?code=abc`)
  t.equal(noState.status, 400)
  t.match(noState.body, /La connexion n&#39;a pas abouti|La connexion n'a pas abouti/)

  // Start a login, then come back with another state: refused, nothing logged in.
  await client.get(`${stack.url}/_psc/login?rd=/`)
  const wrong = await client.get(`${stack.url}/_psc/callback?code=abc&state=not-the-state`)
  t.equal(wrong.status, 400)
  t.notOk(client.cookies(stack.url).some((c) => c.name === 'psc_session'))
  t.ok(
    stack.audit.some(
      (e) => e.event === 'login' && e.outcome === 'failed' && e.reason === 'PSC_ERR_LOGIN_UNKNOWN_STATE',
    ),
  )

  // A callback URL replayed after a successful login is refused (state consumed, code used once).
  const victim = new BrowserLikeClient()
  const page = await victim.follow(`${stack.url}/_psc/login?rd=/`)
  const { parseForms } = await import('../helpers/browser-like-client.js')
  const form = parseForms(page.body, page.url).find((f) => f.method === 'POST')
  const back = await victim.postForm(form!.action, { ...form!.fields, practitioner: MEDECIN })
  let res = back
  let callbackUrl = ''
  for (let i = 0; i < 10 && res.status >= 300 && res.status < 400; i++) {
    const next = new URL(res.headers.location!, res.url)
    if (next.pathname === '/_psc/callback') callbackUrl = next.href
    res = await victim.get(next.href)
  }
  t.ok(callbackUrl, 'saw the callback')
  t.equal(res.status, 200)
  const replay = await victim.get(callbackUrl)
  t.equal(replay.status, 400, 'replayed callback refused')
})

t.test('a tampered, garbage or foreign-signed cookie is refused without a crash', async (t) => {
  const { client } = await loggedIn(MEDECIN)
  const good = client.cookieValue(stack.url, 'psc_session')!
  for (const bad of [
    good.slice(0, -2) + (good.endsWith('AA') ? 'BB' : 'AA'),
    'garbage',
    `${good}x`,
    'a'.repeat(5000),
    '%%%',
    good.split('.')[0]!,
  ]) {
    client.setCookie(stack.url, { name: 'psc_session', value: bad })
    const res = await client.get(`${stack.url}/dossier`)
    t.equal(res.status, 302, `refused: ${bad.slice(0, 20)}`)
    t.match(res.headers.location, /^\/_psc\/login/)
    t.match(String(res.headers['set-cookie']), /psc_session=;/, 'the bad cookie is cleared')
  }
  client.setCookie(stack.url, { name: 'psc_session', value: good })
  t.equal((await client.get(`${stack.url}/?format=json`)).status, 200, 'the genuine cookie still works')
})

t.test('logout ends the local and the PSC session; the old cookie is dead', async (t) => {
  const { client } = await loggedIn(MEDECIN)
  const oldCookie = client.cookies(stack.url).find((c) => c.name === 'psc_session')!.value
  const first = await client.get(`${stack.url}/_psc/logout`)
  t.equal(first.status, 302)
  const endSession = new URL(first.headers.location ?? '')
  t.equal(endSession.origin + endSession.pathname, `${stack.emulator!.issuer}/protocol/openid-connect/logout`)
  t.ok(endSession.searchParams.get('id_token_hint'))
  t.equal(endSession.searchParams.get('post_logout_redirect_uri'), `${stack.url}/_psc/logged-out`)
  const landed = await client.follow(first.headers.location!)
  t.equal(new URL(landed.url).pathname, '/_psc/logged-out')
  t.match(landed.body, /Vous êtes déconnecté/)
  t.ok(stack.audit.some((e) => e.event === 'logout' && e.cause === 'user' && e.idNat === MEDECIN))

  // Replaying the old cookie does not bring the session back.
  client.setCookie(stack.url, { name: 'psc_session', value: oldCookie })
  const replay = await client.get(`${stack.url}/dossier`)
  t.equal(replay.status, 302)
  // And PSC's session is gone too: logging in again shows the practitioner list.
  const again = await client.follow(`${stack.url}/dossier`)
  t.match(again.body, /émulateur local/)
})

t.test('every proxied request has one audit line; no secret, token or cookie is ever written', async (t) => {
  const { client } = await loggedIn(MEDECIN)
  const before = stack.audit.length
  await client.get(`${stack.url}/audit-check?format=json`)
  const lines = stack.audit.slice(before).filter((e) => e.event === 'access')
  t.equal(lines.length, 1)
  t.match(lines[0], {
    decision: 'allow',
    route: 'application',
    method: 'GET',
    path: '/audit-check',
    status: 200,
    idNat: MEDECIN,
    profession: '10',
  })
  t.type(lines[0]?.durationMs, 'number')
  t.match(lines[0]?.requestId, /^[0-9a-f-]{36}$/)
  t.notOk(JSON.stringify(lines[0]).includes('format=json'), 'no query string in the audit')

  const cookie = client.cookies(stack.url).find((c) => c.name === 'psc_session')!.value
  const sessionId = decodeURIComponent(cookie).split('.')[0]!
  const everything = JSON.stringify(stack.audit) + stack.logs.join('\n')
  for (const secret of [CLIENT_SECRET, SESSION_SECRET, cookie, sessionId])
    t.notOk(everything.includes(secret), 'secret absent from logs and audit')
  const record = await stack.gateway.sessions.store.get(sessionId)
  t.ok(record, 'the session exists server-side')
  for (const token of [record!.accessToken, record!.idToken, record!.refreshToken ?? 'none-set'])
    t.notOk(everything.includes(token), 'token absent')
})
