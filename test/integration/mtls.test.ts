// mTLS (tls_client_auth) with a PSC-shaped emulator that, like PSC, serves the token endpoint for
// certificate clients on another listener published as RFC 8705 mtls_endpoint_aliases, and refuses
// a certificate of another CA in the TLS handshake. Real TLS on both sides, over loopback.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { startEmulator, type RunningEmulator } from '../../dev/emulator/index.js'
import {
  CLIENT_CERTIFICATE_EXPIRY_METRIC,
  CLIENT_CERTIFICATE_RENEWALS_METRIC,
} from '../../src/ops/client-certificate-metric.js'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { CLIENT_DN, makeTestPki, P12_PASSWORD } from '../helpers/pki.js'
import { emulatorClientFor, freePort, startStack, type StackOptions } from '../helpers/stack.js'
import { PSC_ERR_CLIENT_CERTIFICATE_REFUSED } from '../../src/errors.js'

const MEDECIN = '899700218896'
const pki = makeTestPki()
t.teardown(() => pki.close())

async function mtlsEmulator(port: number): Promise<RunningEmulator> {
  return startEmulator({
    port: 0,
    tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caPem },
    clients: [emulatorClientFor(port, { tlsClientAuthSubjectDn: CLIENT_DN })],
  })
}

const p12 = (file: string): StackOptions => ({
  clientAuth: 'tls_client_auth',
  pscYaml: `  tls: { ca: "${pki.caFile}" }\n  certificate: { pkcs12: "${file}", password: "\${P12_PASSWORD}" }\n`,
  env: { P12_PASSWORD },
})

async function admin(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`)
  return { status: res.status, body: await res.text() }
}

t.test('the token request goes to the mTLS alias PSC publishes, and the login works', async (t) => {
  const port = await freePort()
  const emulator = await mtlsEmulator(port)
  t.teardown(() => emulator.close())
  const stack = await startStack({ ...p12(pki.clientP12File), port, emulator })
  t.teardown(() => stack.close())
  const m = stack.gateway.psc.configuration!.serverMetadata()
  const alias = (m.mtls_endpoint_aliases as Record<string, string> | undefined)?.token_endpoint
  t.ok(alias, 'the emulator publishes mtls_endpoint_aliases')
  t.not(new URL(alias!).port, new URL(m.token_endpoint!).port, 'on another listener than the plain token endpoint')
  t.equal(stack.gateway.psc.tokenEndpoint, alias)

  const client = new BrowserLikeClient({ ca: pki.caPem })
  const landed = await loginThroughEmulator(client, `${stack.url}/dossier/3`, MEDECIN)
  t.equal(landed.status, 200, 'logged in: the plain endpoint would have answered invalid_client')
  t.equal(new URL(landed.url).pathname, '/dossier/3')
  t.equal(stack.gateway.psc.status.ready, true)
})

t.test(
  'a certificate of another CA: refused in the handshake, told as a certificate problem in the log, /readyz and the page',
  async (t) => {
    const port = await freePort()
    const adminPort = await freePort()
    const emulator = await mtlsEmulator(port)
    t.teardown(() => emulator.close())
    const stack = await startStack({ ...p12(pki.strangerP12File), port, adminPort, emulator })
    t.teardown(() => stack.close())

    // at start-up already: one handshake with the token endpoint
    t.equal(stack.gateway.psc.status.code, PSC_ERR_CLIENT_CERTIFICATE_REFUSED)
    const ready = await admin(adminPort, '/readyz')
    t.equal(ready.status, 200, 'reported, not a reason to take every replica out of the Service')
    t.match(
      ready.body,
      /refused the client certificate \(C=FR, O=CH de Test, CN=psc-gateway-test, issued by C=FR, O=Test, CN=stranger-ca\) in the TLS handshake/,
    )
    t.notMatch(ready.body, /cannot be reached|UND_ERR_SOCKET/)
    const warned = stack.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.code === PSC_ERR_CLIENT_CERTIFICATE_REFUSED)
    t.ok(warned, 'a warning in the log with the code')
    t.equal(warned?.level, 40)

    const client = new BrowserLikeClient({ ca: pki.caPem })
    const page = await loginThroughEmulator(client, `${stack.url}/dossier/4`, MEDECIN)
    t.equal(page.status, 502)
    t.match(page.body, /Pro Santé Connect a refusé le certificat avec lequel cette application s&#39;identifie/)
    t.match(page.body, /Votre carte CPS ou votre application e-CPS ne sont pas en cause/)
    t.notMatch(page.body, /UND_ERR|TLS|stranger/, 'no technical detail on the page')
    const failed = stack.audit.find((e) => e.event === 'login' && e.outcome === 'failed')
    t.match(failed, { reason: 'PSC_ERR_LOGIN_CLIENT_CERTIFICATE' })
    t.match((failed as { detail?: string } | undefined)?.detail, /PSC_ERR_CLIENT_CERTIFICATE_REFUSED: .*stranger-ca/)
  },
)

t.test(
  'a renewed certificate (files replaced) is used from the next token request, without a restart: logged, audited, metric',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'psc-cert-renewal-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const file = join(dir, 'client.p12')
    copyFileSync(pki.strangerP12File, file)
    const port = await freePort()
    const adminPort = await freePort()
    const emulator = await mtlsEmulator(port)
    t.teardown(() => emulator.close())
    const stack = await startStack({ ...p12(file), port, adminPort, emulator })
    t.teardown(() => stack.close())
    t.equal(
      stack.gateway.psc.status.code,
      PSC_ERR_CLIENT_CERTIFICATE_REFUSED,
      'the first certificate is refused by PSC',
    )
    const before = stack.gateway.psc.certificate!.info.serialNumber

    copyFileSync(pki.clientP12File, file)
    const deadline = Date.now() + 10_000
    while (stack.gateway.psc.certificate?.info.serialNumber === before && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100))
    t.not(stack.gateway.psc.certificate?.info.serialNumber, before, 'the renewed file was read')
    while (!stack.gateway.psc.status.ready && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    t.equal(stack.gateway.psc.status.ready, true, 'PSC accepts the renewed certificate')

    const client = new BrowserLikeClient({ ca: pki.caPem })
    const landed = await loginThroughEmulator(client, `${stack.url}/dossier/5`, MEDECIN)
    t.equal(landed.status, 200, 'the token request used the new certificate')

    const renewed = stack.audit.find(
      (e) => e.event === 'config' && e.outcome === 'reloaded' && 'clientCertificate' in e,
    )
    t.match(renewed, {
      clientCertificate: {
        file,
        subject: 'C=FR, O=CH de Test, CN=psc-gateway-test',
        issuer: 'C=FR, O=Test, CN=test-ca',
        previousSerialNumber: before,
      },
    })
    t.ok(
      stack.logs.some((l) => l.includes('renewed client certificate for PSC in use')),
      'logged',
    )
    const metrics = await admin(adminPort, '/metrics')
    t.match(metrics.body, new RegExp(`^${CLIENT_CERTIFICATE_RENEWALS_METRIC}\\{outcome="reloaded"\\} 1$`, 'm'))
    t.match(
      metrics.body,
      new RegExp(
        `^${CLIENT_CERTIFICATE_EXPIRY_METRIC}\\{subject="C=FR, O=CH de Test, CN=psc-gateway-test"\\} [0-9]+$`,
        'm',
      ),
    )
    t.notMatch(
      JSON.stringify(stack.audit) + stack.logs.join('\n'),
      /PRIVATE KEY|p12-password/,
      'never the key or its password',
    )

    // a damaged file: the certificate in use stays, the refusal is audited
    copyFileSync(pki.caFile, file)
    const until = Date.now() + 10_000
    while (
      !stack.audit.some((e) => e.event === 'config' && e.outcome === 'refused' && 'clientCertificate' in e) &&
      Date.now() < until
    )
      await new Promise((r) => setTimeout(r, 100))
    t.ok(
      stack.audit.some((e) => e.event === 'config' && e.outcome === 'refused' && 'clientCertificate' in e),
      'an unusable renewal is audited',
    )
    t.equal(stack.gateway.psc.status.ready, true, 'and the good certificate stays in use')
  },
)

t.test(
  'CIBA with tls_client_auth: the backchannel request and the polls go to the mTLS aliases; the phone approval says MOBILE',
  async (t) => {
    const { CIBA_YAML, startCiba, waitForEnd } = await import('../helpers/ciba.js')
    const port = await freePort()
    const emulator = await startEmulator({
      port: 0,
      tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caPem },
      clients: [emulatorClientFor(port, { tlsClientAuthSubjectDn: CLIENT_DN })],
      ciba: { intervalSeconds: 1 },
    })
    t.teardown(() => emulator.close())
    const options = p12(pki.clientP12File)
    const stack = await startStack({ ...options, pscYaml: options.pscYaml + CIBA_YAML(), port, emulator })
    t.teardown(() => stack.close())
    const { res, browser } = await startCiba(stack, '997 002 188 96')
    t.equal(res.status, 303, 'PSC accepted the backchannel request (certificate client, on the alias)')
    const pending = emulator.ciba.pending(MEDECIN)
    t.equal(pending.length, 1)
    await emulator.ciba.answerAs(pending[0]!.authReqId, true)
    const landed = await waitForEnd(stack, browser)
    t.equal(landed.status, 303, 'the polls of the token endpoint got the tokens')
    const echo = await browser.get(`${stack.url}/dossier/1?format=json`)
    const { headers } = JSON.parse(echo.body) as { headers: Record<string, string> }
    t.equal(headers['x-psc-idnat'], MEDECIN)
    t.equal(headers['x-psc-auth-mode'], 'MOBILE')
  },
)

t.test('CIBA with a certificate PSC refuses: the audit says it is the certificate, not that PSC is down', async (t) => {
  const { CIBA_YAML, startCiba } = await import('../helpers/ciba.js')
  const port = await freePort()
  const emulator = await mtlsEmulator(port)
  t.teardown(() => emulator.close())
  const options = p12(pki.strangerP12File)
  const stack = await startStack({ ...options, pscYaml: options.pscYaml + CIBA_YAML(), port, emulator })
  t.teardown(() => stack.close())
  const { res } = await startCiba(stack, '997 002 188 96')
  t.equal(res.status, 503)
  t.equal(emulator.ciba.pending(MEDECIN).length, 0)
  const refused = stack.audit.find(
    (e) => e.event === 'access' && /PSC_ERR_CIBA_PSC_UNAVAILABLE/.test(String((e as { detail?: string }).detail)),
  )
  t.match(
    (refused as { detail?: string } | undefined)?.detail,
    /PSC_ERR_CLIENT_CERTIFICATE_REFUSED: PSC at 127\.0\.0\.1:[0-9]+ refused the client certificate/,
  )
})
