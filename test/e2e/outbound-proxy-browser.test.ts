// A hospital server that reaches PSC only through its outbound proxy, end to end in a real browser:
// headless chromium logs a médecin in while every call the gateway makes to PSC (discovery, token,
// UserInfo) goes through a real tinyproxy; then the same with mTLS (tls_client_auth, the emulator on
// HTTPS with a test CA), the gateway's calls in a CONNECT tunnel. The browser itself talks to PSC
// directly, as a practitioner's browser does.
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import t, { type Test } from 'tap'
import { startEmulator, type RunningEmulator } from '../../dev/emulator/index.js'
import { launchChromium, SHOTS, STEP_TIMEOUT } from '../helpers/chromium.js'
import { EMULATOR_LOGIN_TITLE } from '../helpers/emulator-login.js'
import { CLIENT_DN, makeTestPki, P12_PASSWORD } from '../helpers/pki.js'
import { emulatorClientFor, freePort, startStack, type StackOptions } from '../helpers/stack.js'
import { startTinyproxy, type RunningTinyproxy } from '../helpers/tinyproxy.js'

const MEDECIN = '899700218896'
// Chromium, tinyproxy, an emulator (on HTTPS with a fresh test PKI for the second test) and a
// gateway per test: under load ~20 on 2 cores the first test took 42 s and the second passed 60 s.
t.setTimeout(300_000)
let browser: Browser | undefined
t.teardown(async () => {
  await browser?.close().catch(() => undefined)
})

/** The whole login in chromium; returns the idNat the demo application received. */
async function browserLogin(t: Test, base: string, emulator: RunningEmulator, shot: string): Promise<string> {
  const context = await browser!.newContext({ locale: 'fr-FR', ignoreHTTPSErrors: true })
  t.teardown(() => context.close())
  context.setDefaultTimeout(STEP_TIMEOUT)
  context.setDefaultNavigationTimeout(STEP_TIMEOUT)
  const page = await context.newPage()
  await page.goto(`${base}/dossier/7`)
  await page.waitForURL((u) => u.origin === emulator.origin)
  t.equal(await page.title(), EMULATOR_LOGIN_TITLE, 'on the emulator login page')
  await Promise.all([
    page.waitForURL((u) => u.origin === base && u.pathname === '/dossier/7'),
    page.click(`button[value="${MEDECIN}"]`),
  ])
  await page.screenshot({ path: join(SHOTS, shot), fullPage: true })
  const row = page.locator('#identity tr', { has: page.locator('th', { hasText: /^x-psc-idnat$/ }) })
  return (await row.locator('td').first().innerText()).trim()
}

async function proxyFor(t: Test): Promise<RunningTinyproxy> {
  const proxy = await startTinyproxy()
  t.teardown(() => proxy.close())
  return proxy
}

t.test(
  'chromium logs in while the gateway reaches PSC only through the outbound proxy',
  { timeout: 120_000 },
  async (t) => {
    const launched = await launchChromium()
    if (typeof launched === 'string') return void t.fail(launched)
    browser = launched
    const proxy = await proxyFor(t)
    const port = await freePort()
    const emulator = await startEmulator({ port: 0, clients: [emulatorClientFor(port)] })
    t.teardown(() => emulator.close())
    const stack = await startStack({ port, emulator, pscYaml: `  outboundProxy: { url: "${proxy.url}" }\n` })
    t.teardown(() => stack.close())

    t.equal(
      await browserLogin(t, stack.url, emulator, 'outbound-proxy-login.png'),
      MEDECIN,
      'on the application, logged in',
    )
    const oidc = `${emulator.issuer}/protocol/openid-connect`
    const seen = proxy.requests()
    t.ok(seen.includes(`GET ${emulator.discoveryUrl} HTTP/1.1`), 'discovery through the proxy')
    t.ok(seen.includes(`POST ${oidc}/token HTTP/1.1`), 'token call through the proxy')
    t.ok(seen.includes(`GET ${oidc}/userinfo HTTP/1.1`), 'UserInfo through the proxy')
  },
)

t.test(
  'chromium logs in with mTLS (tls_client_auth) through the outbound proxy: CONNECT tunnel',
  { timeout: 120_000 },
  async (t) => {
    if (browser === undefined) return void t.fail('no browser (see the first test)')
    const pki = makeTestPki()
    t.teardown(() => pki.close())
    const proxy = await proxyFor(t)
    const port = await freePort()
    const emulator = await startEmulator({
      port: 0,
      tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caPem },
      clients: [emulatorClientFor(port, { tlsClientAuthSubjectDn: CLIENT_DN })],
    })
    t.teardown(() => emulator.close())
    const mtls: StackOptions = {
      port,
      emulator,
      clientAuth: 'tls_client_auth',
      pscYaml: `  outboundProxy: { url: "${proxy.url}" }\n  tls: { ca: "${pki.caFile}" }\n  certificate: { pkcs12: "${pki.clientP12File}", password: "\${P12_PASSWORD}" }\n`,
      env: { P12_PASSWORD },
    }
    const stack = await startStack(mtls)
    t.teardown(() => stack.close())

    t.equal(
      await browserLogin(t, stack.url, emulator, 'outbound-proxy-mtls-login.png'),
      MEDECIN,
      'on the application, logged in with tls_client_auth',
    )
    t.ok(
      proxy.requests().includes(`CONNECT 127.0.0.1:${new URL(emulator.origin).port} HTTP/1.1`),
      'HTTPS to PSC through a CONNECT tunnel',
    )
  },
)
