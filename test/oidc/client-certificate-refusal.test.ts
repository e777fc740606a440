// A TLS server that refuses the gateway's client certificate, as Debian's openssl s_server does it
// (a TLS alert: unknown_ca, certificate_expired) over TLS 1.3 and 1.2: told as
// PSC_ERR_CLIENT_CERTIFICATE_REFUSED with the alert, never as "PSC cannot be reached".
import { spawn, type ChildProcess } from 'node:child_process'
import { connect } from 'node:net'
import t from 'tap'
import { diagnoseFailure } from '../../src/oidc/client-certificate-probe.js'
import { OutboundHttp } from '../../src/oidc/outbound-http.js'
import {
  loadCaBundle,
  loadClientCertificate,
  type ClientCertificateFiles,
} from '../../src/config/client-certificate.js'
import { makeTestPki, OPENSSL, P12_PASSWORD } from '../helpers/pki.js'
import { freePort } from '../helpers/stack.js'
import { PSC_ERR_CLIENT_CERTIFICATE_REFUSED, PSC_ERR_PSC_UNREACHABLE } from '../../src/errors.js'

const pki = makeTestPki()
t.teardown(() => pki.close())
const expired = pki.issueClient('expired-client', 0)

async function sServer(version: '-tls1_3' | '-tls1_2'): Promise<{ url: string; close(): void }> {
  const port = await freePort()
  const child: ChildProcess = spawn(
    OPENSSL,
    [
      's_server',
      '-accept',
      `127.0.0.1:${port}`,
      '-cert',
      `${pki.dir}/server.pem`,
      '-key',
      `${pki.dir}/server.key`,
      '-CAfile',
      pki.caFile,
      '-Verify',
      '1',
      '-verify_return_error',
      '-www',
      version,
    ],
    { stdio: 'ignore' },
  )
  const deadline = Date.now() + 10_000
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })
    if (up) break
    if (Date.now() > deadline) throw new Error('openssl s_server did not start')
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url: `https://127.0.0.1:${port}/`,
    close: () => {
      child.kill()
    },
  }
}

function http(files: ClientCertificateFiles): OutboundHttp {
  return new OutboundHttp(
    { proxy: { kind: 'direct' }, ca: loadCaBundle(pki.caFile), certificate: loadClientCertificate(files) },
    {},
  )
}

async function outcome(
  files: ClientCertificateFiles,
  url: string,
): Promise<{ status?: number; code?: string; message?: string }> {
  const h = http(files)
  try {
    const res = await h.fetch(url, { signal: AbortSignal.timeout(5000) })
    return { status: res.status }
  } catch (err) {
    return await diagnoseFailure(h, err, url, 3000)
  } finally {
    await h.close()
  }
}

await new Promise((r) => setTimeout(r, 1100)) // the 0-day certificate is expired

for (const version of ['-tls1_3', '-tls1_2'] as const) {
  t.test(`openssl s_server ${version} asking for a certificate of the test CA`, async (t) => {
    const server = await sServer(version)
    t.teardown(() => server.close())
    t.match(
      await outcome({ pkcs12: pki.clientP12File, password: P12_PASSWORD }, server.url),
      { status: 200 },
      'the right certificate gets through',
    )

    const stranger = await outcome({ pkcs12: pki.strangerP12File, password: P12_PASSWORD }, server.url)
    t.equal(stranger.code, PSC_ERR_CLIENT_CERTIFICATE_REFUSED)
    t.match(
      stranger.message,
      /refused the client certificate \(C=FR, O=CH de Test, CN=psc-gateway-test, issued by C=FR, O=Test, CN=stranger-ca\) in the TLS handshake: TLS alert unknown_ca: it is not issued by a CA PSC trusts/,
    )
    t.notMatch(stranger.message, /cannot be reached|UND_ERR_SOCKET/)

    const old = await outcome({ cert: expired.certFile, key: expired.keyFile }, server.url)
    t.equal(old.code, PSC_ERR_CLIENT_CERTIFICATE_REFUSED)
    t.match(old.message, /TLS alert certificate_expired: it has expired/)
  })
}

t.test('a server that is down is still unreachable, not a certificate problem', async (t) => {
  const url = `https://127.0.0.1:${await freePort()}/`
  const r = await outcome({ pkcs12: pki.strangerP12File, password: P12_PASSWORD }, url)
  t.equal(r.code, PSC_ERR_PSC_UNREACHABLE)
  t.match(r.message, /ECONNREFUSED/)
})
