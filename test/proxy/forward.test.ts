// Forwarding an allowed request (proxy/forward.ts): what the upstream receives (the normalised path
// under the upstream's base path, the client's headers without anything in the gateway's name, our
// identity, static and forwarding headers) and what the client gets when the upstream fails. The
// gateway side is fastify's inject; the upstream is a tiny HTTP server on 127.0.0.1 that echoes.
import type { IncomingHttpHeaders } from 'node:http'
import t, { type Test } from 'tap'
import { doctor, unitConfig } from '../helpers/unit.js'
import { closedPort, proxyApp, upstreamServer, withIdentity } from './forward-app.js'

interface Echo {
  method: string
  url: string
  headers: IncomingHttpHeaders
}

/** Echoes what it received as JSON; paths starting with /base/slow answer after 2 s. */
function echoUpstream(t: Test): Promise<string> {
  return upstreamServer(t, (req, res) => {
    const body = JSON.stringify({ method: req.method ?? '', url: req.url ?? '', headers: req.headers } satisfies Echo)
    const send = () => {
      if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end(body)
    }
    if (req.url?.startsWith('/base/slow')) setTimeout(send, 2000).unref()
    else send()
  })
}

t.test("the normalised path is forwarded, under the upstream's base path, with the raw query", async (t) => {
  const upstream = await echoUpstream(t)
  const { app, observed } = await proxyApp(t, unitConfig({ appUrl: `${upstream}/base` }), withIdentity(doctor()))
  const res = await app.inject({ url: '/dossiers/./a/../b//c?q=jean%20dupont&x=%2F' })
  t.equal(res.statusCode, 200)
  const echo = res.json() as Echo
  t.equal(echo.url, '/base/dossiers/b/c?q=jean%20dupont&x=%2F')
  t.equal(echo.method, 'GET')
  t.same(observed, [['response', 'app', 200]], 'the observer is told of the response')
})

t.test('client identity headers are stripped, ours added; static upstream headers replace client copies', async (t) => {
  const upstream = await echoUpstream(t)
  const { app } = await proxyApp(t, unitConfig({ appUrl: `${upstream}/base` }), withIdentity(doctor()))
  const res = await app.inject({
    url: '/page',
    headers: {
      'x-psc-idnat': '899999999999',
      X_PSC_Profession: '21',
      'x-psc-forged-extra': 'x',
      'x-app-secret': 'forged',
      'x-request-id': 'forged-id',
      forwarded: 'for=6.6.6.6',
      'x-real-ip': '6.6.6.6',
      cookie: 'psc_session=s%3Aabc.sig; app_pref=dark; psc_login=xyz',
      'x-custom': 'kept',
    },
  })
  const h = (res.json() as Echo).headers
  t.equal(h['x-psc-idnat'], '810000000001')
  t.equal(h['x-psc-rpps'], '10000000001')
  t.equal(h['x-psc-family-name'], 'Lef%C3%A8vre', 'percent encoding of non-ASCII')
  t.equal(h['x-psc-given-name'], 'Jeanne')
  t.equal(h['x-psc-profession-code'], '10')
  t.equal(h['x-psc-profession'], 'M%C3%A9decin')
  t.equal(h['x-psc-category'], 'C')
  t.equal(h['x-psc-acr'], 'eidas1')
  t.equal(h.x_psc_profession, undefined, 'the underscore spelling is removed')
  t.equal(h['x-psc-forged-extra'], undefined, 'anything under the X-PSC- prefix is removed')
  t.equal(h['x-psc-specialty'], undefined, 'no value, no header')
  t.equal(h['x-app-secret'], 's3cret-static', "the static header is ours, not the client's")
  t.not(h['x-request-id'], 'forged-id')
  t.match(h['x-request-id'], /^[0-9a-z-]+$/)
  t.equal(h.forwarded, undefined)
  t.equal(h['x-real-ip'], undefined)
  t.equal(h.cookie, 'app_pref=dark', "the gateway's cookies never reach the upstream")
  t.equal(h['x-custom'], 'kept')
  t.equal(h.authorization, undefined, 'no access token unless the upstream asks for it')
})

t.test('anonymous request (public route): no identity header at all, client copies removed', async (t) => {
  const upstream = await echoUpstream(t)
  const { app } = await proxyApp(t, unitConfig({ appUrl: `${upstream}/base` }), withIdentity(undefined))
  const res = await app.inject({ url: '/public', headers: { 'x-psc-idnat': '899999999999' } })
  const h = (res.json() as Echo).headers
  t.same(
    Object.keys(h).filter((k) => k.startsWith('x-psc')),
    [],
  )
})

t.test('the access token is sent as a bearer token only when the target carries one', async (t) => {
  const upstream = await echoUpstream(t)
  const { app } = await proxyApp(
    t,
    unitConfig({ appUrl: `${upstream}/base` }),
    withIdentity(doctor(), 'access-token-1'),
  )
  const res = await app.inject({ url: '/api', headers: { authorization: 'Bearer forged' } })
  t.equal((res.json() as Echo).headers.authorization, 'Bearer access-token-1')
})

t.test('X-Forwarded-*: built from the trusted chain only', async (t) => {
  const upstream = await echoUpstream(t)
  const config = unitConfig({ appUrl: `${upstream}/base` })
  const untrusting = await proxyApp(t, config, withIdentity(doctor()))
  const spoof = {
    'x-forwarded-for': '203.0.113.7, 10.0.0.2',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'evil.test',
    host: 'gw.hopital.test',
  }
  const a = (await untrusting.app.inject({ url: '/p', headers: spoof, remoteAddress: '127.0.0.1' })).json() as Echo
  t.equal(a.headers['x-forwarded-for'], '127.0.0.1', 'no trusted proxy: the peer address only')
  t.equal(a.headers['x-forwarded-proto'], 'http')
  t.equal(a.headers['x-forwarded-host'], 'gw.hopital.test')

  const trusting = await proxyApp(t, config, withIdentity(doctor()), ['127.0.0.1'])
  const b = (await trusting.app.inject({ url: '/p', headers: spoof, remoteAddress: '127.0.0.1' })).json() as Echo
  t.equal(
    b.headers['x-forwarded-for'],
    '10.0.0.2, 127.0.0.1',
    'the chain up to the first untrusted hop; the spoofed start is dropped',
  )
  t.equal(b.headers['x-forwarded-proto'], 'https')
  t.equal(b.headers['x-forwarded-host'], 'evil.test', 'the host the trusted proxy says (and the route matched)')
})

t.test(
  'upstream unreachable: 502 French page PSC_ERR_UPSTREAM_UNAVAILABLE, scope still allow, observer told',
  async (t) => {
    const port = await closedPort()
    const { app, scopes, observed } = await proxyApp(
      t,
      unitConfig({ appUrl: `http://127.0.0.1:${port}/base` }),
      withIdentity(doctor()),
    )
    const res = await app.inject({ url: '/dossiers?id=1', headers: { accept: 'text/html' } })
    t.equal(res.statusCode, 502)
    t.match(res.headers['content-type'], 'text/html')
    t.match(res.body, '<title>Application indisponible</title>')
    t.match(res.body, 'L&#39;application demandée est momentanément indisponible.')
    t.match(res.body, 'href="/dossiers?id=1"', 'a retry link to the same page')
    t.notMatch(res.body, 'ECONNREFUSED')
    t.equal(scopes[0]?.decision, 'allow')
    t.equal(scopes[0]?.reason, undefined)
    t.same(
      observed,
      [['error', 'app', 'ECONNREFUSED']],
      "undici's error for a refused connection (metrics: kind 'refused')",
    )
    const json = await app.inject({ url: '/dossiers', headers: { accept: 'application/json' } })
    t.equal(json.statusCode, 502)
    t.equal(json.json().error, 'PSC_ERR_UPSTREAM_UNAVAILABLE')
  },
)

t.test('upstream too slow: 504 French page PSC_ERR_UPSTREAM_TIMEOUT, scope still allow, observer told', async (t) => {
  const upstream = await echoUpstream(t)
  const { app, scopes, observed } = await proxyApp(
    t,
    unitConfig({ appUrl: `${upstream}/base`, appTimeout: '200ms' }),
    withIdentity(doctor()),
  )
  const res = await app.inject({ url: '/slow', headers: { accept: 'text/html' } })
  t.equal(res.statusCode, 504)
  t.match(res.body, 'L&#39;application a mis trop de temps à répondre.')
  t.equal(scopes[0]?.decision, 'allow')
  t.same(observed, [['error', 'app', 'UND_ERR_HEADERS_TIMEOUT']], "undici's headers timeout (metrics: kind 'timeout')")
  const json = await app.inject({ url: '/slow', headers: { accept: 'application/json' } })
  t.equal(json.json().error, 'PSC_ERR_UPSTREAM_TIMEOUT')
})
