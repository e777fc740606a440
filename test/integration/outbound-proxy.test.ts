// The gateway behind a hospital's outbound proxy: a real tinyproxy on 127.0.0.1, the PSC emulator
// behind it. Every call to PSC is in the proxy's log; with the proxy stopped, the gateway names the
// proxy, not PSC; a login works through it, with a client secret and with tls_client_auth (mTLS).
import t from 'tap'
import { startEmulator, type RunningEmulator } from '../../dev/emulator/index.js'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { CLIENT_DN, makeTestPki, P12_PASSWORD } from '../helpers/pki.js'
import { CLIENT_ID, emulatorClientFor, freePort, startStack, type StackOptions } from '../helpers/stack.js'
import { startTinyproxy } from '../helpers/tinyproxy.js'
import { PSC_ERR_OUTBOUND_PROXY, PSC_ERR_PSC_UNREACHABLE } from '../../src/errors.js'

const MEDECIN = '899700218896'

async function readyz(adminPort: number): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/readyz`)
  return { status: res.status, body: await res.text() }
}

async function gatewayBehind(proxyUrl: string, emulator: RunningEmulator, port: number, extra: StackOptions = {}) {
  const adminPort = await freePort()
  const stack = await startStack({
    ...extra,
    port,
    emulator,
    adminPort,
    pscYaml: `  outboundProxy: { url: "${proxyUrl}" }\n${extra.pscYaml ?? ''}`,
  })
  return { stack, adminPort }
}

t.test('every PSC call goes through the outbound proxy, and a login works through it', async (t) => {
  const proxy = await startTinyproxy()
  t.teardown(() => proxy.close())
  const port = await freePort()
  const emulator = await startEmulator({ port: 0, clients: [emulatorClientFor(port)] })
  t.teardown(() => emulator.close())
  const { stack } = await gatewayBehind(proxy.url, emulator, port)
  t.teardown(() => stack.close())

  const client = new BrowserLikeClient()
  const landed = await loginThroughEmulator(client, `${stack.url}/dossier/7`, MEDECIN)
  t.equal(landed.status, 200, 'logged in, on the application')
  t.equal(new URL(landed.url).pathname, '/dossier/7')

  // The practitioner logs out at PSC: PSC calls the gateway back, and the gateway fetches PSC's
  // keys (JWKS) to check the logout token: through the proxy too.
  const logoutAtPsc = new URL(`${emulator.issuer}/protocol/openid-connect/logout`)
  logoutAtPsc.searchParams.set('client_id', CLIENT_ID)
  logoutAtPsc.searchParams.set('post_logout_redirect_uri', `${stack.url}/_psc/logged-out`)
  await client.follow(logoutAtPsc.href)
  const deadline = Date.now() + 5000
  while (!proxy.requests().some((r) => r.includes('/protocol/openid-connect/certs')) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100))
  }

  const seen = proxy.requests()
  const oidc = `${emulator.issuer}/protocol/openid-connect`
  t.ok(seen.includes(`GET ${emulator.discoveryUrl} HTTP/1.1`), 'discovery through the proxy')
  t.ok(seen.includes(`POST ${oidc}/token HTTP/1.1`), 'token call through the proxy')
  t.ok(seen.includes(`GET ${oidc}/userinfo HTTP/1.1`), 'UserInfo through the proxy')
  t.ok(seen.includes(`GET ${oidc}/certs HTTP/1.1`), 'JWKS through the proxy')
  t.notOk(
    seen.some((r) => r.includes('code=') || r.includes('access_token')),
    'no code or token in the proxy log',
  )
  t.equal((await client.get(`${stack.url}/dossier/7`)).status, 302, 'the back-channel logout ended the session')
})

t.test('with the outbound proxy stopped, /readyz and the PSC status name the proxy, not PSC', async (t) => {
  const proxy = await startTinyproxy()
  t.teardown(() => proxy.close())
  const port = await freePort()
  const emulator = await startEmulator({ port: 0, clients: [emulatorClientFor(port)] })
  t.teardown(() => emulator.close())
  await proxy.stop()
  const { stack, adminPort } = await gatewayBehind(proxy.url, emulator, port)
  t.teardown(() => stack.close())

  const status = stack.gateway.psc.status
  t.equal(status.ready, false)
  t.equal(status.code, PSC_ERR_OUTBOUND_PROXY)
  t.match(status.reason, `the outbound proxy ${proxy.url} cannot be reached (ECONNREFUSED)`)
  t.notMatch(status.reason, /PSC at .* cannot be reached/)
  const ready = await readyz(adminPort)
  t.equal(ready.status, 503)
  t.match(ready.body, `outbound proxy ${proxy.url}`)

  // The practitioner is told it is the hospital's network, not PSC: nobody calls ANS for it.
  const page = await new BrowserLikeClient().get(`${stack.url}/dossier/7`)
  t.equal(page.status, 503)
  t.match(page.body, 'Connexion impossible depuis l&#39;établissement')
  t.match(page.body, 'le proxy de sortie de son réseau refuse la connexion ou ne répond pas')
  t.match(page.body, 'Pro Santé Connect n&#39;est pas en cause')
  t.notMatch(page.body, /ECONNREFUSED|127\.0\.0\.1/, 'no technical detail on the page')
  const english = await new BrowserLikeClient().get(`${stack.url}/dossier/7`, {
    headers: { 'Accept-Language': 'en-GB,en;q=0.9' },
  })
  t.match(english.body, 'the outbound proxy of its network refuses the connection or does not answer')
  const refused = stack.audit.filter((e) => (e as { reason?: string }).reason === 'PSC_ERR_OUTBOUND_PROXY_UNAVAILABLE')
  t.ok(refused.length >= 1, 'the audit has the proxy code')

  // the proxy comes back: discovery is retried and the gateway becomes ready
  await proxy.restart()
  const deadline = Date.now() + 10_000
  while (!stack.gateway.psc.status.ready && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  t.equal(stack.gateway.psc.status.ready, true, 'ready once the proxy is back')
})

t.test(
  'mTLS (tls_client_auth) through the proxy: CONNECT tunnel, login works; PSC down behind the proxy is told apart',
  async (t) => {
    const pki = makeTestPki()
    t.teardown(() => pki.close())
    const proxy = await startTinyproxy()
    t.teardown(() => proxy.close())
    const port = await freePort()
    const emulator = await startEmulator({
      port: 0,
      tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caPem },
      clients: [emulatorClientFor(port, { tlsClientAuthSubjectDn: CLIENT_DN })],
    })
    let emulatorClosed = false
    t.match(emulator.issuer, /^https:\/\/127\.0\.0\.1:/)
    const mtls: StackOptions = {
      clientAuth: 'tls_client_auth',
      pscYaml: `  tls: { ca: "${pki.caFile}" }\n  certificate: { pkcs12: "${pki.clientP12File}", password: "\${P12_PASSWORD}" }\n`,
      env: { P12_PASSWORD },
    }
    const { stack } = await gatewayBehind(proxy.url, emulator, port, mtls)
    t.teardown(() => stack.close())
    t.equal(stack.gateway.psc.status.ready, true, stack.gateway.psc.status.reason ?? 'ready')

    const client = new BrowserLikeClient({ ca: pki.caPem })
    const landed = await loginThroughEmulator(client, `${stack.url}/dossier/8`, MEDECIN)
    t.equal(landed.status, 200, 'logged in with tls_client_auth')
    t.equal(new URL(landed.url).pathname, '/dossier/8')
    const emulatorPort = new URL(emulator.origin).port
    t.ok(
      proxy.requests().includes(`CONNECT 127.0.0.1:${emulatorPort} HTTP/1.1`),
      'HTTPS to PSC through a CONNECT tunnel',
    )

    // PSC down, proxy up: the proxy cannot connect; that is PSC's unreachability, not the proxy's.
    await emulator.close()
    emulatorClosed = true
    const second = await gatewayBehind(proxy.url, emulator, await freePort(), mtls)
    t.teardown(() => second.stack.close())
    t.equal(second.stack.gateway.psc.status.code, PSC_ERR_PSC_UNREACHABLE)
    t.match(
      second.stack.gateway.psc.status.reason,
      `the outbound proxy ${proxy.url} could not connect to PSC at 127.0.0.1:${emulatorPort}`,
    )
    // ... and the practitioner reads that PSC is unavailable, not the hospital's proxy.
    const page = await new BrowserLikeClient().get(`${second.stack.url}/dossier/8`)
    t.equal(page.status, 503)
    t.match(page.body, 'Service de connexion indisponible')
    t.notMatch(page.body, 'proxy de sortie')
    t.teardown(() => (emulatorClosed ? undefined : emulator.close()))
  },
)

t.test(
  'the proxy stops in the middle of a login: the callback fails (502), the proxy named in the audit and on the page',
  async (t) => {
    const { parseForms } = await import('../helpers/browser-like-client.js')
    const proxy = await startTinyproxy()
    t.teardown(() => proxy.close())
    const port = await freePort()
    const emulator = await startEmulator({ port: 0, clients: [emulatorClientFor(port)] })
    t.teardown(() => emulator.close())
    const { stack } = await gatewayBehind(proxy.url, emulator, port)
    t.teardown(() => stack.close())

    const client = new BrowserLikeClient()
    const page = await client.follow(`${stack.url}/dossier/9`)
    const form = parseForms(page.body, page.url).find((f) => f.method === 'POST')!
    await proxy.stop()
    const landed = await client.follow(form.action, 20, { form: { ...form.fields, practitioner: MEDECIN } })
    t.equal(landed.status, 502, 'the callback could not reach PSC')
    t.equal(new URL(landed.url).pathname, '/_psc/callback')
    const failed = stack.audit.find((e) => e.event === 'login' && (e as { outcome?: string }).outcome === 'failed') as
      | { reason?: string; detail?: string }
      | undefined
    t.equal(failed?.reason, 'PSC_ERR_LOGIN_OUTBOUND_PROXY')
    t.equal(
      failed?.detail,
      `PSC_ERR_OUTBOUND_PROXY: the outbound proxy ${proxy.url} cannot be reached (ECONNREFUSED); PSC was not tried`,
    )
    t.match(landed.body, 'La connexion n&#39;a pas abouti')
    t.match(landed.body, 'le proxy de sortie de son réseau refuse la connexion ou ne répond pas')
    t.match(landed.body, '/dossier/9', 'a way back to the page asked for')
  },
)
