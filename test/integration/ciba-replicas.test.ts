// CIBA behind several replicas sharing a real Redis, with no sticky sessions: the push is sent and
// polled by replica A, while the browser's next requests reach replica B (as a load balancer
// without affinity sends them). Before, B answered "Demande introuvable" (404): the request lived
// only in A's memory. Now its state is in the shared store: B shows the waiting page, logs the
// practitioner in once, and a cancel through B stops A's polling.
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import type { AuditEvent } from '../../src/audit/events.js'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { answerOnPhone, bindingMessageOf, CIBA_YAML, startCiba, waitForEnd } from '../helpers/ciba.js'
import { startRedis, type RedisServer } from '../helpers/redis.js'
import { startStack, type Stack } from '../helpers/stack.js'

const MEDECIN = '899700218896'
const PHARMACIEN = '899700367915'

const cibaOutcomes = (s: Stack, idNat: string) =>
  s.audit
    .filter((e): e is Extract<AuditEvent, { event: 'ciba' }> => e.event === 'ciba' && e.idNat === idNat)
    .map((e) => e.outcome)

/** Replicas A and B sharing one real Redis and one emulator (PSC), as behind a load balancer. */
async function twoReplicas(t: Test): Promise<{ redis: RedisServer; a: Stack; b: Stack }> {
  const redis = await startRedis()
  t.teardown(() => redis.close())
  const a = await startStack({ redisUrl: redis.url, pscYaml: CIBA_YAML(), emulatorCiba: { intervalSeconds: 1 } })
  t.teardown(() => a.close())
  const b = await startStack({ redisUrl: redis.url, pscYaml: CIBA_YAML(), emulator: a.emulator })
  t.teardown(() => b.close())
  return { redis, a, b }
}

/** The browser's CIBA cookie, as replica A set it, sent to replica B (same site behind one name). */
function moveCibaCookie(browser: BrowserLikeClient, from: Stack, to: Stack): void {
  const value = browser.cookieValue(from.url, 'psc_ciba')
  if (value === undefined) throw new Error('no CIBA cookie from replica A')
  browser.setCookie(to.url, { name: 'psc_ciba', value })
}

t.test('two replicas, one Redis, no affinity: started on A, waited for, approved and logged in on B', async (t) => {
  const { redis, a, b } = await twoReplicas(t)

  const { res, browser } = await startCiba(a, MEDECIN)
  t.equal(res.status, 303, 'A sent the push')
  const onA = await browser.get(`${a.url}/_psc/ciba`)
  moveCibaCookie(browser, a, b)

  const onB = await browser.get(`${b.url}/_psc/ciba`)
  t.equal(onB.status, 200, 'B shows the waiting page (it answered 404 "Demande introuvable" before)')
  t.ok(bindingMessageOf(onB), 'with the code to compare on the phone')
  t.equal(bindingMessageOf(onB), bindingMessageOf(onA), 'the same code as A shows')
  t.equal((await browser.get(`${b.url}/_psc/ciba/status`)).body, '{"state":"pending"}')
  const stored = await redisContent(redis.url, '*ciba:request:*')
  t.equal(stored.length, 1, 'the request is in the shared store')
  const requestId = browser.cookieValue(b.url, 'psc_ciba')!.split('.')[0]!
  t.notOk(
    stored.some(([k, v]) => k.includes(requestId) || v.includes(requestId)),
    'under a hash of its id: the store never holds the id the cookie carries',
  )

  await answerOnPhone(a, MEDECIN, true)
  const landed = await waitForEnd(b, browser)
  t.equal(landed.status, 303, 'B logs the practitioner in')
  t.equal(landed.headers.location, '/dossier/42?onglet=bio', 'back to the page first asked for')
  const page = await browser.get(`${b.url}/dossier/1?format=json`)
  t.equal(page.status, 200)
  t.equal(
    (JSON.parse(page.body) as { headers: Record<string, string> }).headers['x-psc-idnat'],
    MEDECIN,
    'the identity reaches the application through B',
  )

  t.same(cibaOutcomes(a, MEDECIN), ['requested', 'approved'], 'A, which polled PSC, audits the request and its outcome')
  t.ok(
    b.audit.find(
      (e) => e.event === 'login' && e.outcome === 'succeeded' && e.loginMethod === 'ciba' && e.idNat === MEDECIN,
    ),
    'B audits the login',
  )
  t.notOk(
    a.audit.find((e) => e.event === 'login' && e.outcome === 'succeeded'),
    'A did not log anyone in',
  )

  // Another tab of the same browser still holding the cookie, sent to A: the answer was handed over once.
  const late = new BrowserLikeClient()
  late.setCookie(a.url, { name: 'psc_ciba', value: browser.cookieValue(a.url, 'psc_ciba')! })
  const again = await late.get(`${a.url}/_psc/ciba`)
  t.equal(again.status, 404, 'the approved request cannot log in a second time, on any replica')
  t.notOk(
    late.cookies(a.url).find((c) => c.name === 'psc_session'),
    'no second session',
  )
})

t.test('a cancel through B stops the polling on A within a second, and a new push may go', async (t) => {
  const { a, b } = await twoReplicas(t)

  const { browser } = await startCiba(a, PHARMACIEN)
  moveCibaCookie(browser, a, b)
  t.equal((await browser.get(`${b.url}/_psc/ciba`)).status, 200)
  const cancelled = await browser.postForm(`${b.url}/_psc/ciba/cancel`, {})
  t.equal(cancelled.status, 303, 'B takes the cancel')
  t.match(cancelled.headers.location, /^\/_psc\/login\?rd=/, 'back to the login choice')

  const deadline = Date.now() + 10_000
  while (!cibaOutcomes(a, PHARMACIEN).includes('cancelled') && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100))
  t.same(cibaOutcomes(a, PHARMACIEN), ['requested', 'cancelled'], 'A stopped polling and audits the cancel')
  const next = await startCiba(a, PHARMACIEN)
  t.equal(next.res.status, 303, 'the practitioner may be sent a new push (the one-waiting-push lock was released)')
})

/** The keys matching `pattern`, with their values. */
async function redisContent(url: string, pattern: string): Promise<[string, string][]> {
  const client = new Redis(url)
  try {
    const keys = await client.keys(pattern)
    return await Promise.all(keys.map(async (k): Promise<[string, string]> => [k, (await client.get(k)) ?? '']))
  } finally {
    client.disconnect()
  }
}

t.test('Redis down: the waiting page fails closed with the store page (503), not a 500', async (t) => {
  const { redis, a, b } = await twoReplicas(t)
  const { res, browser } = await startCiba(a, MEDECIN)
  t.equal(res.status, 303)
  // B never held the request: it can only ask the store, which is down.
  moveCibaCookie(browser, a, b)
  await redis.stop()
  const page = await browser.get(`${b.url}/_psc/ciba`)
  t.equal(page.status, 503)
  t.match(page.body, /Service momentanément indisponible/)
  t.notMatch(page.body, /Redis|ECONNREFUSED|stack/i, 'no technical detail on the page')
  t.ok(
    b.audit.find((e) => e.event === 'access' && e.reason === 'PSC_ERR_STORE_UNAVAILABLE'),
    'audited with the store code',
  )
  t.notOk(
    b.logs.some((l) => l.includes('unhandled error')),
    'not logged as a bug',
  )
})

t.test('approved, then two tabs on two replicas at once: exactly one logs in', async (t) => {
  const { a, b } = await twoReplicas(t)
  const { browser } = await startCiba(a, MEDECIN)
  const cookie = browser.cookieValue(a.url, 'psc_ciba')!
  await answerOnPhone(a, MEDECIN, true)
  const deadline = Date.now() + 10_000
  while ((await browser.get(`${a.url}/_psc/ciba/status`)).body !== '{"state":"done"}' && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100))
  const tabs = [a, b, a, b].map((replica) => {
    const tab = new BrowserLikeClient()
    tab.setCookie(replica.url, { name: 'psc_ciba', value: cookie })
    return tab.get(`${replica.url}/_psc/ciba`)
  })
  const statuses = (await Promise.all(tabs)).map((r) => r.status).sort()
  t.same(statuses, [303, 404, 404, 404], 'one tab logged in, the three others get "Demande introuvable"')
  const logins = [...a.audit, ...b.audit].filter(
    (e) => e.event === 'login' && e.outcome === 'succeeded' && e.loginMethod === 'ciba',
  )
  t.equal(logins.length, 1, 'one login in the trail of both replicas')
})

t.test('the replica that polls stops: the others say the request ended, instead of waiting for ever', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.close())
  const b = await startStack({ redisUrl: redis.url, pscYaml: CIBA_YAML(), emulatorCiba: { intervalSeconds: 1 } })
  t.teardown(() => b.close())
  const a = await startStack({ redisUrl: redis.url, pscYaml: CIBA_YAML(), emulator: b.emulator })
  const { browser } = await startCiba(a, MEDECIN)
  moveCibaCookie(browser, a, b)
  t.equal((await browser.get(`${b.url}/_psc/ciba/status`)).body, '{"state":"pending"}')
  await a.close() // a rolling update stops A (SIGTERM)
  const page = await browser.get(`${b.url}/_psc/ciba`)
  t.equal(page.status, 502, 'B tells the request failed')
  t.match(page.body, /Réessayer/, 'and offers to start again')
  t.ok(
    b.audit.find(
      (e) =>
        e.event === 'login' &&
        e.outcome === 'failed' &&
        e.detail?.includes('the gateway replica that polled it stopped'),
    ),
    'the detail says why, in the trail',
  )
})

t.test('a forged or foreign state in the store is ignored: no crash, no redirect off the site', async (t) => {
  const { redis, a, b } = await twoReplicas(t)
  const { browser } = await startCiba(a, MEDECIN)
  moveCibaCookie(browser, a, b)
  const [[key, value]] = (await redisContent(redis.url, '*ciba:request:*')) as [[string, string]]
  const forged = {
    ...(JSON.parse(value) as object),
    state: 'approved',
    returnTo: 'https://evil.example/',
    fields: { identity: {} },
  }
  const client = new Redis(redis.url)
  t.teardown(() => client.disconnect())
  await client.set(key, JSON.stringify(forged), 'PX', 60_000)
  const page = await browser.get(`${b.url}/_psc/ciba`)
  t.equal(page.status, 404, 'not a request this gateway wrote: "Demande introuvable"')
  t.notOk(page.headers.location, 'no redirect')
  await client.set(
    key,
    JSON.stringify({ ...(JSON.parse(value) as object), state: 'failed', failure: 'some-new-failure' }),
    'PX',
    60_000,
  )
  t.equal(
    (await browser.get(`${b.url}/_psc/ciba`)).status,
    404,
    'an unknown failure kind (another version) is no 500 either',
  )
})
