// A Redis outage, as a practitioner meets it: a login that PSC completes while Redis is down gets
// the 503 page (not "Erreur interne"); /_psc/me answers 503; a logout during the outage clears the
// browser's cookie and the session is ended once Redis is back (it was still valid before).
import t from 'tap'
import { BrowserLikeClient, parseForms } from '../helpers/browser-like-client.js'
import { isEmulatorLoginPage, loginThroughEmulator } from '../helpers/emulator-login.js'
import { startRedis, type RedisServer } from '../helpers/redis.js'
import { startStack, type Stack } from '../helpers/stack.js'

const MEDECIN = '899700218896'

let redis: RedisServer
let stack: Stack
t.before(async () => {
  redis = await startRedis()
  stack = await startStack({ redisUrl: redis.url })
})
t.teardown(async () => {
  await stack.close()
  await redis.close()
})

/** ioredis reconnects with a backoff: wait for it rather than racing it. */
async function storeReady(): Promise<void> {
  await (stack.gateway.sessions.store as unknown as { ready(ms: number): Promise<void> }).ready(15_000)
}

/** Everything up to PSC's redirect to our callback, which is returned, not followed. */
async function untilCallback(client: BrowserLikeClient, startUrl: string): Promise<string> {
  const page = await client.follow(startUrl)
  if (!isEmulatorLoginPage(page)) throw new Error(`not the emulator's login page: ${page.url}`)
  const form = parseForms(page.body, page.url).find((f) => f.method === 'POST')!
  let res = await client.postForm(form.action, { ...form.fields, practitioner: MEDECIN })
  for (let i = 0; i < 10 && res.status >= 300 && res.status < 400; i++) {
    const next = new URL(res.headers.location!, res.url)
    if (next.pathname === '/_psc/callback') return next.href
    res = await client.get(next.href)
  }
  throw new Error(`never redirected to the callback; ended at ${res.url} (${res.status})`)
}

t.test('a login PSC completes while Redis is down gets the 503 page, with a way back', async (t) => {
  const client = new BrowserLikeClient()
  const callback = await untilCallback(client, `${stack.url}/dossier/9`)
  await redis.stop()
  const res = await client.get(callback)
  t.equal(res.status, 503)
  t.match(res.body, 'votre session n&#39;a pas pu être enregistrée')
  t.match(res.body, /href="\/_psc\/login\?rd=%2Fdossier%2F9"/)
  t.notMatch(res.body, /Erreur interne/)
  const failed = stack.audit.filter((e) => e.event === 'login' && e.outcome === 'failed').at(-1)
  t.match(failed, { reason: 'PSC_ERR_LOGIN_STORE_UNAVAILABLE', idNat: MEDECIN })
  await redis.start()
  await storeReady()
})

t.test('a logout during the outage ends the session once Redis is back', async (t) => {
  const client = new BrowserLikeClient()
  const landed = await loginThroughEmulator(client, `${stack.url}/dossier/1`, MEDECIN)
  t.equal(landed.status, 200)
  const cookie = client.cookies(stack.url).find((c) => c.name === 'psc_session')!
  await redis.stop()
  const me = await client.get(`${stack.url}/_psc/me`, { headers: { Accept: 'application/json' } })
  t.equal(me.status, 503, '/_psc/me during the outage')
  t.match(JSON.parse(me.body), { error: 'PSC_ERR_STORE_UNAVAILABLE' })
  const logout = await client.get(`${stack.url}/_psc/logout`)
  t.equal(logout.status, 302, 'not a 500')
  t.equal(logout.headers.location, '/_psc/logged-out')
  t.notOk(client.cookieValue(stack.url, 'psc_session'), "the browser's cookie is cleared")
  t.equal(stack.gateway.sessions.pendingEnds, 1, 'the end waits for the store')
  await redis.start()
  await storeReady()
  for (let i = 0; i < 100 && stack.gateway.sessions.pendingEnds > 0; i++) await new Promise((r) => setTimeout(r, 100))
  t.equal(stack.gateway.sessions.pendingEnds, 0, 'ended once Redis answered')
  // The old cookie, replayed (another tab, a copy): the session is gone from Redis itself.
  const { rawGet } = await import('../helpers/raw-http.js')
  const res = await rawGet(stack.url, '/dossier/1', [`Cookie: psc_session=${cookie.value}`, 'Sec-Fetch-Mode: navigate'])
  t.equal(res.response?.status, 302, 'the old session no longer opens anything')
})

t.test('a frozen Redis (connection open, no answer) is reported by the readiness check', async (t) => {
  const { sessionStoreCheck } = await import('../../src/ops/readiness.js')
  t.same(await sessionStoreCheck(stack.gateway.sessions.store), { ok: true, reason: 'redis store reachable' })
  redis.freeze()
  try {
    const frozen = await sessionStoreCheck(stack.gateway.sessions.store)
    t.equal(frozen.ok, false)
    t.match(frozen.reason, /does not answer/)
  } finally {
    redis.thaw()
  }
  await storeReady()
  t.equal((await sessionStoreCheck(stack.gateway.sessions.store)).ok, true, 'ready again once it answers')
})
