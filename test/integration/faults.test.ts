// The gateway when its neighbours fail: PSC unreachable at start-up (and back later), an upstream
// that refuses connections or is too slow.
import t from 'tap'
import { startEmulator } from '../../dev/emulator/index.js'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { startDelayedUpstream } from '../helpers/delayed-upstream.js'
import { CLIENT_ID, CLIENT_SECRET, freePort, startStack } from '../helpers/stack.js'

t.test('PSC unreachable at start-up: public routes work, protected ones answer 503, and it recovers', async (t) => {
  const pscPort = await freePort()
  const issuer = `http://127.0.0.1:${pscPort}/auth/realms/esante-wallet`
  const stack = await startStack({ issuer })
  t.teardown(() => stack.close())

  const pub = await fetch(`${stack.url}/public/?format=json`)
  t.equal(pub.status, 200, 'public route served without PSC')
  const client = new BrowserLikeClient()
  const prot = await client.get(`${stack.url}/dossier`)
  t.equal(prot.status, 503)
  t.match(prot.body, /Service de connexion indisponible/)
  t.equal(stack.gateway.psc.status.ready, false)
  t.match(stack.gateway.psc.status.reason, /discovery failed/)
  const login = await client.get(`${stack.url}/_psc/login?rd=/`)
  t.equal(login.status, 503, 'the login endpoint says so too')

  const emulator = await startEmulator({
    port: pscPort,
    clients: [
      {
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUris: [`${stack.url}/_psc/callback`],
        postLogoutRedirectUris: [`${stack.url}/_psc/logged-out`],
      },
    ],
  })
  t.teardown(() => emulator.close())
  const deadline = Date.now() + 20_000
  while (!stack.gateway.psc.status.ready && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
  t.equal(stack.gateway.psc.status.ready, true, 'discovery retried until PSC came back')
  const landed = await loginThroughEmulator(client, `${stack.url}/dossier`, '899700218896')
  t.equal(landed.status, 200, 'login works after recovery')
})

t.test('an upstream that refuses connections gives a 502 page; the gateway stays up', async (t) => {
  const stack = await startStack()
  t.teardown(() => stack.close())
  await stack.upstream.close()
  const res = await fetch(`${stack.url}/public/x`)
  t.equal(res.status, 502)
  t.match(await res.text(), /Application indisponible/)
  const json = await fetch(`${stack.url}/public/x`, { headers: { accept: 'application/json' } })
  t.match(await json.json(), { error: 'PSC_ERR_UPSTREAM_UNAVAILABLE' })
  t.ok(stack.audit.some((e) => e.event === 'access' && e.route === 'public' && e.status === 502))
})

t.test('an upstream slower than its timeout gives a 504 page', async (t) => {
  const slow = await startDelayedUpstream(2000)
  t.teardown(() => slow.close())
  const stack = await startStack({ upstreamTimeout: '300ms', upstreamUrl: slow.url })
  t.teardown(() => stack.close())
  const res = await fetch(`${stack.url}/public/x`)
  t.equal(res.status, 504)
  t.match(await res.text(), /ne répond pas/)
})

t.test('PSC failing during the callback: a clear page, a fresh login link, no half-made session', async (t) => {
  const stack = await startStack()
  t.teardown(() => stack.close().catch(() => undefined))
  const client = new BrowserLikeClient()
  const page = await client.follow(`${stack.url}/_psc/login?rd=/dossier`)
  const { parseForms } = await import('../helpers/browser-like-client.js')
  const form = parseForms(page.body, page.url).find((f) => f.method === 'POST')!
  let res = await client.postForm(form.action, { ...form.fields, practitioner: '899700218896' })
  let callback: string | undefined
  for (let i = 0; i < 10 && !callback; i++) {
    const next = new URL(res.headers.location!, res.url)
    if (next.pathname === '/_psc/callback') callback = next.href
    else res = await client.get(next.href)
  }
  t.ok(callback, 'PSC sent the browser back with a code')
  await stack.emulator!.close() // PSC goes down before the gateway redeems the code
  const failed = await client.get(callback!)
  t.equal(failed.status, 502)
  t.match(failed.body, /La connexion n(&#39;|')a pas abouti/)
  t.match(failed.body, /href="\/_psc\/login\?rd=[^"]+"/, 'a fresh login link, back to the page asked for')
  t.notOk(client.cookieValue(stack.url, 'psc_session'), 'no session cookie')
  t.equal(stack.gateway.sessions.store.size(), 0, 'no session server-side')
  t.ok(
    stack.audit.some((e) => e.event === 'login' && (e as { outcome?: string }).outcome === 'failed'),
    'the failure is audited',
  )
})

t.test('an upstream that resets connections gives a 502 page; the next request is fine', async (t) => {
  const { createServer: createNetServer } = await import('node:net')
  const resetting = createNetServer((socket) => socket.on('data', () => socket.resetAndDestroy()))
  await new Promise<void>((r) => resetting.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => resetting.close(() => r())))
  const stack = await startStack({ upstreamUrl: `http://127.0.0.1:${(resetting.address() as { port: number }).port}` })
  t.teardown(() => stack.close())
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${stack.url}/public/x`)
    t.equal(res.status, 502, `reset ${i + 1}: 502`)
    t.match(await res.text(), /Application indisponible/)
  }
  t.equal((await fetch(`${stack.url}/_psc/me`)).status, 401, 'the gateway itself still answers')
})
