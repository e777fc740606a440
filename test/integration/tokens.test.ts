// PSC's short tokens: the access token forwarded to an opted-in upstream is refreshed before it
// expires, once per session however many requests arrive together (in one process and across
// replicas sharing Redis); re-validation ends the session when PSC refuses.
import t from 'tap'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { startRedis } from '../helpers/redis.js'
import { CLIENT_ID, CLIENT_SECRET, startStack, type Stack } from '../helpers/stack.js'

const MIN = 60_000

async function bearerSeen(client: BrowserLikeClient, stack: Stack, path = '/'): Promise<string> {
  const res = await client.get(`${stack.url}${path}?format=json`)
  if (res.status !== 200) throw new Error(`status ${res.status}`)
  return (JSON.parse(res.body) as { headers: Record<string, string> }).headers.authorization ?? ''
}

t.test('the access token is forwarded, refreshed before expiry, once for concurrent requests', async (t) => {
  let clock = Date.now()
  const stack = await startStack({ forwardAccessToken: true, now: () => clock })
  t.teardown(() => stack.close())
  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${stack.url}/`, '899700218896')

  const first = await bearerSeen(client, stack)
  t.match(first, /^Bearer .{20,}/, 'the upstream gets the PSC access token')
  t.equal(await bearerSeen(client, stack), first, 'unchanged while fresh')
  const spoofed = await client.get(`${stack.url}/?format=json`, { headers: { Authorization: 'Bearer forged' } })
  t.equal(
    (JSON.parse(spoofed.body) as { headers: Record<string, string> }).headers.authorization,
    first,
    'a client Authorization header is replaced',
  )

  clock += 2 * MIN // past the 2-minute access token lifetime
  const seen = await Promise.all(Array.from({ length: 20 }, () => bearerSeen(client, stack)))
  t.equal(new Set(seen).size, 1, 'every concurrent request got the same refreshed token')
  t.not(seen[0], first, 'a new access token')
  t.equal(
    stack.audit.filter((e) => e.event === 'session' && (e as { outcome?: string }).outcome === 'refreshed').length,
    1,
    'one refresh, audited once',
  )
  // Every refresh grant returns a new access token: one token across 20 responses means one refresh.
})

t.test('across replicas sharing Redis, one refresh for the session', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.close())
  let clock = Date.now()
  const a = await startStack({ forwardAccessToken: true, redisUrl: redis.url, now: () => clock })
  t.teardown(() => a.close())
  const b = await startStack({
    forwardAccessToken: true,
    redisUrl: redis.url,
    now: () => clock,
    emulator: a.emulator,
    port: undefined,
  })
  t.teardown(() => b.close())
  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${a.url}/`, '899700218896')
  client.setCookie(b.url, { name: 'psc_session', value: client.cookieValue(a.url, 'psc_session')! })
  const first = await bearerSeen(client, a)
  t.equal(await bearerSeen(client, b), first, 'B forwards the same token')

  clock += 2 * MIN
  const seen = await Promise.all(Array.from({ length: 10 }, (_, i) => bearerSeen(client, i % 2 ? a : b)))
  t.equal(new Set(seen).size, 1, 'both replicas forward the one refreshed token')
  t.not(seen[0], first)
})

t.test('re-validation: PSC still knows the session, then PSC refuses it', async (t) => {
  let clock = Date.now()
  const stack = await startStack({ revalidateEvery: '5m', now: () => clock })
  t.teardown(() => stack.close())
  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${stack.url}/`, '899700218896')
  clock += 6 * MIN
  t.equal((await client.get(`${stack.url}/?format=json`)).status, 200, 'PSC confirmed the session')

  // PSC revokes the practitioner's refresh token (e.g. the card was withdrawn).
  const cookie = decodeURIComponent(client.cookieValue(stack.url, 'psc_session')!)
  const record = await stack.gateway.sessions.store.get(cookie.slice(0, cookie.lastIndexOf('.')))
  const revoke = await fetch(`${stack.emulator!.issuer}/protocol/openid-connect/revoke`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
    },
    body: new URLSearchParams({ token: record!.refreshToken!, token_type_hint: 'refresh_token' }),
  })
  t.equal(revoke.status, 200)
  clock += 6 * MIN
  const refused = await client.get(`${stack.url}/dossier`)
  t.equal(refused.status, 302, 'back to the login')
  t.ok(
    stack.audit.some((e) => e.event === 'logout' && (e as { cause?: string }).cause === 'revoked'),
    'audited as revoked',
  )
})

t.test('PSC unreachable when a needed access token must be renewed: 503, the session is kept', async (t) => {
  let clock = Date.now()
  const stack = await startStack({ forwardAccessToken: true, now: () => clock })
  t.teardown(() => stack.close().catch(() => undefined))
  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${stack.url}/`, '899700218896')
  await stack.emulator!.close()
  clock += 2 * MIN
  const res = await client.get(`${stack.url}/dossier`)
  t.equal(res.status, 503, 'not a login redirect: nothing says the practitioner is logged out')
  t.notMatch(String(res.headers['set-cookie'] ?? ''), /psc_session=;/, 'the session cookie is kept')
  const cookie = decodeURIComponent(client.cookieValue(stack.url, 'psc_session')!)
  t.ok(
    await stack.gateway.sessions.store.get(cookie.slice(0, cookie.lastIndexOf('.'))),
    'the session is kept server-side',
  )
})
