// Attack class 7: abuse of the gateway's own endpoints. Login and callback are rate-limited per
// client address (as seen through trusted proxies only), with a 429 page in French and
// Retry-After; proxied routes are never limited. The gateway's pages carry security headers, the
// callback sends no Referer, and HSTS is sent when publicUrl is https.
import t from 'tap'
import { rawGet } from '../helpers/raw-http.js'
import { startTestGateway } from './fixture.js'

const ROUTES = `
upstreams: { app: { url: "UPSTREAM" } }
routes: [ { name: all, upstream: app, access: public } ]
`
const LIMITED = `limits: { rateLimit: { max: 3, window: 1m } }\n${ROUTES}`

t.test('login is limited per client address, with a French 429 page and Retry-After', async (t) => {
  const gw = await startTestGateway(LIMITED)
  t.teardown(() => gw.close())
  for (let i = 0; i < 3; i++)
    t.not((await rawGet(gw.url, '/_psc/login?rd=/')).response?.status, 429, `attempt ${i + 1} passes`)
  const { response } = await rawGet(gw.url, '/_psc/login?rd=/')
  t.equal(response?.status, 429)
  t.match(response?.headers['retry-after'], /^\d+$/)
  t.ok(Number(response?.headers['retry-after']) > 0 && Number(response?.headers['retry-after']) <= 60)
  t.match(response?.body, /Trop de tentatives de connexion/)
  t.match(response?.body, /Réessayez dans/)
  t.match(response?.headers['content-security-policy'], /frame-ancestors 'none'/)
  t.notMatch(response?.body, /Rate limit exceeded|at .*\.js:\d+/, 'no English library message, no stack')
  const json = await rawGet(gw.url, '/_psc/login', ['Accept: application/json'])
  t.equal(json.response?.status, 429)
  t.match(JSON.parse(json.response!.body), { error: 'PSC_ERR_TOO_MANY_REQUESTS' })

  t.not((await rawGet(gw.url, '/_psc/callback?state=x&code=y')).response?.status, 429, 'the callback is counted apart')
  for (let i = 0; i < 20; i++) {
    const proxied = await rawGet(gw.url, `/page/${i}`)
    t.equal(proxied.response?.status, 200, `proxied request ${i + 1} is never limited`)
  }
})

t.test('the callback is limited too', async (t) => {
  const gw = await startTestGateway(LIMITED)
  t.teardown(() => gw.close())
  for (let i = 0; i < 3; i++) await rawGet(gw.url, '/_psc/callback?state=x&code=y')
  t.equal((await rawGet(gw.url, '/_psc/callback?state=x&code=y')).response?.status, 429)
})

t.test('the client address comes through trusted proxies only', async (t) => {
  const trusting = await startTestGateway(`trustedProxies: [127.0.0.1]\n${LIMITED}`)
  const untrusting = await startTestGateway(LIMITED)
  t.teardown(() => Promise.all([trusting.close(), untrusting.close()]))
  for (let i = 0; i < 3; i++) await rawGet(trusting.url, '/_psc/login', ['X-Forwarded-For: 203.0.113.1'])
  t.equal(
    (await rawGet(trusting.url, '/_psc/login', ['X-Forwarded-For: 203.0.113.1'])).response?.status,
    429,
    'one client behind the proxy is limited',
  )
  t.not(
    (await rawGet(trusting.url, '/_psc/login', ['X-Forwarded-For: 203.0.113.2'])).response?.status,
    429,
    'another one behind the same proxy is not',
  )

  // Without trust, X-Forwarded-For is the client's own claim: changing it does not reset the count.
  for (let i = 0; i < 3; i++) await rawGet(untrusting.url, '/_psc/login', [`X-Forwarded-For: 198.51.100.${i}`])
  t.equal((await rawGet(untrusting.url, '/_psc/login', ['X-Forwarded-For: 198.51.100.99'])).response?.status, 429)
})

t.test('rateLimit.max 0 turns the limit off', async (t) => {
  const gw = await startTestGateway(`limits: { rateLimit: { max: 0 } }\n${ROUTES}`)
  t.teardown(() => gw.close())
  for (let i = 0; i < 70; i++) {
    const status = (await rawGet(gw.url, '/_psc/login')).response?.status
    if (status === 429) return t.fail(`limited at attempt ${i + 1}`)
  }
  t.pass('70 logins, none limited')
})

t.test('security headers on the gateway pages; no Referer from the callback', async (t) => {
  const gw = await startTestGateway(ROUTES)
  t.teardown(() => gw.close())
  for (const path of ['/_psc/logged-out', '/_psc/callback?state=x&code=y', '/%zz', '/_psc/nothing-here']) {
    const { response } = await rawGet(gw.url, path)
    const h = response!.headers
    t.match(h['content-security-policy'], /default-src 'none'/, `${path}: CSP`)
    t.match(h['content-security-policy'], /frame-ancestors 'none'/, `${path}: no framing (CSP)`)
    t.equal(h['x-frame-options'], 'DENY', `${path}: no framing (legacy header)`)
    t.equal(h['x-content-type-options'], 'nosniff', `${path}: nosniff`)
    t.equal(h['referrer-policy'], 'no-referrer', `${path}: no-referrer`)
    t.equal(h['strict-transport-security'], undefined, `${path}: no HSTS over an http publicUrl`)
  }
  const cb = await rawGet(gw.url, '/_psc/callback?state=x&code=y')
  t.equal(cb.response?.headers['cache-control'], 'no-store')
})

t.test('HSTS when publicUrl is https: own pages, redirects and proxied responses', async (t) => {
  const gw = await startTestGateway(ROUTES, { publicUrl: 'https://dpi.hopital.example' })
  t.teardown(() => gw.close())
  for (const path of ['/_psc/logged-out', '/_psc/logout', '/%zz', '/proxied/page']) {
    const { response } = await rawGet(gw.url, path)
    t.equal(response?.headers['strict-transport-security'], 'max-age=31536000', `${path} (${response?.status})`)
  }
})
