// The cookies the gate changes on a request it forwards reach the browser with the upstream's answer:
// a forged (or expired) session cookie on a public route is cleared while the page is served. The
// answer is written by the forwarder, not by fastify's send, so nothing may wait for an onSend hook.
// Real gateway, real upstream, real HTTP.
import t from 'tap'
import { startTestGateway, type TestGateway } from '../security/fixture.js'

let gw: TestGateway
t.before(async () => {
  gw = await startTestGateway(`
upstreams: { app: { url: "UPSTREAM" } }
routes: [ { name: all, upstream: app, access: public } ]
`)
})
t.teardown(() => gw.close())

t.test('a forged session cookie on a public route: the page is served and the cookie cleared', async (t) => {
  const res = await fetch(`${gw.url}/page`, { headers: { cookie: 'psc_session=forged.value; app_pref=dark' } })
  t.equal(res.status, 200, "the upstream's answer")
  const echo = (await res.json()) as { headers: Record<string, string> }
  t.equal(echo.headers.cookie, 'app_pref=dark', 'the session cookie never reaches the upstream')
  t.same(res.headers.getSetCookie(), [
    'psc_session=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; SameSite=Lax',
  ])
  const access = gw.audit.filter((e) => e.event === 'access').at(-1) as unknown as Record<string, unknown>
  t.match(access, { decision: 'allow', status: 200 })
})
