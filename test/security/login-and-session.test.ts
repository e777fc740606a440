// Attack classes 4 and 5: login CSRF and replay (state bound to the browser, code used once, nonce
// checked, parallel tabs bounded) and session attacks (fixation, tampered, truncated, oversized,
// duplicated cookies, removed secret, replay after logout).
import { sign, unsign } from '@fastify/cookie'
import t from 'tap'
import { decodeTransactions, encodeTransactions, MAX_PENDING_LOGINS } from '../../src/oidc/transaction.js'
import { BrowserLikeClient, parseForms } from '../helpers/browser-like-client.js'
import { isEmulatorLoginPage, loginThroughEmulator } from '../helpers/emulator-login.js'
import { rawGet } from '../helpers/raw-http.js'
import { SESSION_SECRET, startStack, type Stack } from '../helpers/stack.js'

const MEDECIN = '899700218896'
const TX = 'psc_login'

let clock = Date.now()
let stack: Stack
t.before(async () => {
  stack = await startStack({ now: () => clock })
})
t.teardown(() => stack.close())

/** Runs a login from `startUrl` up to PSC's redirect back, and returns the callback URL unvisited. */
async function callbackUrlOf(client: BrowserLikeClient, startUrl: string, idNat = MEDECIN): Promise<string> {
  let res = await client.get(startUrl)
  for (let hops = 0; hops < 20; hops++) {
    if (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.location!, res.url)
      if (next.pathname === '/_psc/callback') return next.href
      res = await client.get(next.href)
    } else if (isEmulatorLoginPage(res)) {
      const form = parseForms(res.body, res.url).find((f) => f.method === 'POST')!
      res = await client.postForm(form.action, { ...form.fields, practitioner: idNat })
    } else {
      throw new Error(`unexpected ${res.status} at ${res.url}`)
    }
  }
  throw new Error('no callback reached')
}

function txCookie(client: BrowserLikeClient): string {
  return decodeURIComponent(client.cookieValue(stack.url, TX) ?? '')
}

const hasSession = (client: BrowserLikeClient) => client.cookies(stack.url).some((c) => c.name === 'psc_session')

t.test('login CSRF: a callback without the browser-bound transaction is refused', async (t) => {
  const attacker = new BrowserLikeClient()
  const stolen = await callbackUrlOf(attacker, `${stack.url}/_psc/login?rd=/`)
  // The attacker lures a victim to the callback URL: the victim's browser has no matching state.
  const victim = new BrowserLikeClient()
  const res = await victim.get(stolen)
  t.equal(res.status, 400)
  t.notOk(hasSession(victim), 'the victim is not logged in as the attacker')
  // A victim with a login of its own under way: still another state.
  const victim2 = new BrowserLikeClient()
  await victim2.get(`${stack.url}/_psc/login?rd=/`)
  t.equal((await victim2.get(stolen)).status, 400)
  t.notOk(hasSession(victim2))
  t.equal((await victim.get(`${stack.url}/_psc/callback?code=x`)).status, 400, 'no state at all')
  t.equal((await victim.get(`${stack.url}/_psc/callback?code=x&state=`)).status, 400, 'empty state')
  t.equal((await victim.get(`${stack.url}/_psc/callback?code=x&state=a&state=b`)).status, 400, 'two states')
})

t.test('an expired login transaction is refused', async (t) => {
  const client = new BrowserLikeClient()
  const callback = await callbackUrlOf(client, `${stack.url}/_psc/login?rd=/`)
  clock += 11 * 60_000 // session.loginTimeout is 10 minutes
  t.teardown(() => {
    clock = Date.now()
  })
  const res = await client.get(callback)
  t.equal(res.status, 400)
  t.notOk(hasSession(client))
})

t.test('an authorization code is usable once, even with the transaction cookie replayed', async (t) => {
  const client = new BrowserLikeClient()
  const callback = await callbackUrlOf(client, `${stack.url}/_psc/login?rd=/`)
  const tx = client.cookieValue(stack.url, TX)!
  t.equal((await client.get(callback)).status, 302, 'first use logs in')
  const firstSession = client.cookieValue(stack.url, 'psc_session')

  const replayer = new BrowserLikeClient()
  replayer.setCookie(stack.url, { name: TX, value: tx })
  const replay = await replayer.get(callback)
  t.equal(replay.status, 400, 'the code was spent: PSC refuses it, so does the gateway')
  t.notOk(hasSession(replayer))
  t.ok(firstSession)
})

t.test('a nonce that does not match the ID token is refused', async (t) => {
  const client = new BrowserLikeClient()
  const callback = await callbackUrlOf(client, `${stack.url}/_psc/login?rd=/`)
  const unsigned = unsign(txCookie(client), SESSION_SECRET)
  const list = decodeTransactions(unsigned.value!, clock)
  t.equal(list.length, 1)
  const forged = encodeTransactions(list.map((x) => ({ ...x, nonce: 'not-the-nonce-sent-to-psc' })))
  client.setCookie(stack.url, { name: TX, value: encodeURIComponent(sign(forged, SESSION_SECRET)) })
  const res = await client.get(callback)
  t.equal(res.status, 400)
  t.notOk(hasSession(client))
  // openid-client compares the ID token's nonce claim with the one in the transaction
  const failure = stack.audit.filter((e) => e.event === 'login' && e.outcome === 'failed').at(-1) as
    | { reason?: string; detail?: string }
    | undefined
  t.equal(failure?.reason, 'PSC_ERR_LOGIN_PSC_ERROR')
  t.match(failure?.detail, /JWT_CLAIM_COMPARISON_FAILED/, 'refused by the ID token claim check')
})

t.test('parallel logins from several tabs work, and the transaction cookie stays bounded', async (t) => {
  const client = new BrowserLikeClient()
  const callbacks: string[] = []
  for (const tab of ['/tab1', '/tab2', '/tab3'])
    callbacks.push(await callbackUrlOf(client, `${stack.url}/_psc/login?rd=${tab}`))
  const landed: string[] = []
  for (const cb of callbacks.reverse()) {
    const res = await client.get(cb)
    t.equal(res.status, 302)
    landed.push(res.headers.location!)
  }
  t.same(landed.sort(), ['/tab1', '/tab2', '/tab3'], 'each tab comes back where it started')

  const many = new BrowserLikeClient()
  for (let i = 0; i < 25; i++) await many.get(`${stack.url}/_psc/login?rd=/t${i}`)
  const value = txCookie(many)
  const pending = decodeTransactions(unsign(value, SESSION_SECRET).value!, clock)
  t.equal(pending.length, MAX_PENDING_LOGINS, 'the oldest are dropped')
  t.ok(value.length < 1500, `cookie of ${value.length} bytes after 25 logins`)
  const res = await many.get(`${stack.url}/public/?format=json`)
  t.equal(res.status, 200, 'requests still pass (no 431)')
})

t.test(
  'session cookies: tampered, truncated, oversized, unsigned, foreign or removed secret are refused without a crash',
  async (t) => {
    const client = new BrowserLikeClient()
    await loginThroughEmulator(client, `${stack.url}/`, MEDECIN)
    const good = decodeURIComponent(client.cookieValue(stack.url, 'psc_session')!)
    const id = good.slice(0, good.lastIndexOf('.'))
    const bad = [
      // the first character changed (a random id starts with 'A' one time in 64: then 'B')
      good.slice(0, -1),
      good.slice(0, 20),
      id,
      `${good}A`,
      (good.startsWith('A') ? 'B' : 'A') + good.slice(1),
      sign(id, 'some-removed-secret-0123456789abcdef'),
      sign('x'.repeat(43), SESSION_SECRET),
      sign(`${id}A`, SESSION_SECRET),
      'x'.repeat(4000),
      '.',
      '',
      '%',
      '\u00ff',
    ]
    for (const value of bad) {
      const { response } = await rawGet(stack.url, '/dossier', [`Cookie: psc_session=${encodeURIComponent(value)}`])
      t.equal(response?.status, 302, `refused: ${value.slice(0, 16)}`)
      t.match(response?.headers.location, /^\/_psc\/login/)
    }
    const ok = await rawGet(stack.url, '/dossier?format=json', [`Cookie: psc_session=${encodeURIComponent(good)}`])
    t.equal(ok.response?.status, 200, 'the genuine cookie still works: no crash, no lock-out')
  },
)

t.test('duplicated session cookies: neither is honoured, whichever comes first', async (t) => {
  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${stack.url}/`, MEDECIN)
  const good = client.cookieValue(stack.url, 'psc_session')!
  const forged = encodeURIComponent(sign('B'.repeat(43), 'attacker-secret-0123456789abcdef-XYZ'))
  for (const header of [`psc_session=${forged}; psc_session=${good}`, `psc_session=${good}; psc_session=${forged}`]) {
    const res = await rawGet(stack.url, '/dossier?format=json', [`Cookie: ${header}`])
    t.equal(res.response?.status, 400, `refused: ${header.slice(0, 20)}`)
    t.notMatch(res.response?.body ?? '', MEDECIN, 'never as the genuine session')
    t.match(
      JSON.stringify(res.response?.headers ?? {}) + (res.response?.setCookie ?? []).join(),
      /psc_session=;/,
      'the cookie is cleared',
    )
  }
  const twoLines = await rawGet(stack.url, '/dossier?format=json', [
    `Cookie: psc_session=${forged}`,
    `Cookie: psc_session=${forged}`,
  ])
  t.equal(twoLines.response?.status, 400, 'two Cookie lines naming the session cookie: refused too')
  const audited = stack.audit.filter((e) => e.event === 'access' && e.reason === 'PSC_ERR_DUPLICATE_SESSION_COOKIE')
  t.ok(audited.length >= 3, 'each refusal is audited with its code')
})

t.test('fixation: a session cookie set before login is never promoted; a logged-out id stays dead', async (t) => {
  const client = new BrowserLikeClient()
  // an attacker who got a genuine session of their own plants it in the victim's browser
  const attacker = new BrowserLikeClient()
  await loginThroughEmulator(attacker, `${stack.url}/`, '899700367915')
  const planted = attacker.cookieValue(stack.url, 'psc_session')!
  client.setCookie(stack.url, { name: 'psc_session', value: planted })
  await loginThroughEmulator(client, `${stack.url}/_psc/login?rd=/`, MEDECIN)
  const after = client.cookieValue(stack.url, 'psc_session')!
  t.not(after, planted, 'a new id at login')
  const attackerNow = await attacker.get(`${stack.url}/?format=json`)
  t.equal(attackerNow.status, 302, 'the planted session was ended, it does not ride on the victim login')

  const before = client.cookieValue(stack.url, 'psc_session')!
  await client.get(`${stack.url}/_psc/logout`)
  const replay = await rawGet(stack.url, '/?format=json', [`Cookie: psc_session=${before}`])
  t.equal(replay.response?.status, 302, 'logged-out id replayed: login again')
  const me = await rawGet(stack.url, '/_psc/me', [`Cookie: psc_session=${before}`])
  t.equal(me.response?.status, 401)
})
