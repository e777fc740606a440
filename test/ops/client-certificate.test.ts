// The client certificate's life seen by operators: `check` prints subject, issuer and expiry (never
// the key), the metric gives the seconds left, the log warns from 30 days before, and /readyz names
// an expired certificate.
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { CLIENT_CERTIFICATE_EXPIRY_METRIC } from '../../src/ops/client-certificate-metric.js'
import { makeTestPki, P12_PASSWORD } from '../helpers/pki.js'
import { freePort, stackYaml, startStack } from '../helpers/stack.js'
import { PSC_ERR_CLIENT_CERTIFICATE } from '../../src/errors.js'
import { TYPESCRIPT_NODE_ARGS } from '../helpers/typescript-node.js'

const ROOT = join(import.meta.dirname, '..', '..')

const pki = makeTestPki()
t.teardown(() => pki.close())

async function admin(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`)
  return { status: res.status, body: await res.text() }
}

t.test('a certificate valid 90 days: metric, no warning, ready', async (t) => {
  const adminPort = await freePort()
  const stack = await startStack({
    adminPort,
    pscYaml: `  certificate: { pkcs12: "${pki.clientP12File}", password: "\${P12}" }\n`,
    env: { P12: P12_PASSWORD },
  })
  t.teardown(() => stack.close())
  const metrics = await admin(adminPort, '/metrics')
  const m = new RegExp(
    `^${CLIENT_CERTIFICATE_EXPIRY_METRIC}\\{subject="C=FR, O=CH de Test, CN=psc-gateway-test"\\} ([0-9]+)$`,
    'm',
  ).exec(metrics.body)
  t.ok(m, 'the metric is exported with the subject')
  const days = Number(m?.[1]) / 86400
  t.ok(days > 89 && days <= 90, `${days} days left`)
  t.notOk(
    stack.logs.some((l) => l.includes('client certificate')),
    'no warning',
  )
  t.equal((await admin(adminPort, '/readyz')).status, 200)
})

t.test('a certificate expiring in 10 days: a warning in the log at start-up', async (t) => {
  const soon = pki.issueClient('ten-days', 10)
  const stack = await startStack({ pscYaml: `  certificate: { cert: "${soon.certFile}", key: "${soon.keyFile}" }\n` })
  t.teardown(() => stack.close())
  const line = stack.logs
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => String(l.msg).includes('expires in less than 30 days'))
  t.ok(line, 'warned')
  t.match(line, { level: 40, subject: 'C=FR, O=CH de Test, CN=psc-gateway-test', code: PSC_ERR_CLIENT_CERTIFICATE })
  t.ok(line?.daysLeft === 9 || line?.daysLeft === 10)
})

t.test('an expired certificate: /readyz names it, the metric is negative', async (t) => {
  const expired = pki.issueClient('expired', 0)
  await new Promise((r) => setTimeout(r, 1100)) // time passing: the 0-day certificate is expired
  const adminPort = await freePort()
  const stack = await startStack({
    adminPort,
    pscYaml: `  certificate: { cert: "${expired.certFile}", key: "${expired.keyFile}" }\n`,
  })
  t.teardown(() => stack.close())
  const ready = await admin(adminPort, '/readyz')
  t.equal(ready.status, 503)
  t.match(
    ready.body,
    /the client certificate presented to PSC \(C=FR, O=CH de Test, CN=psc-gateway-test, .*expired\.pem\) expired on/,
  )
  t.equal(stack.gateway.psc.status.code, PSC_ERR_CLIENT_CERTIFICATE)
  const metrics = await admin(adminPort, '/metrics')
  t.match(metrics.body, new RegExp(`^${CLIENT_CERTIFICATE_EXPIRY_METRIC}\\{[^}]*\\} -[0-9]+$`, 'm'))
})

t.test('check prints subject, issuer and expiry, never the key; a wrong password names the key', async (t) => {
  const dir = t.testdir({})
  const file = join(dir, 'gw.yaml')
  const port = await freePort()
  const yaml = stackYaml({
    port,
    issuer: 'http://127.0.0.1:9/auth/realms/esante-wallet',
    upstreamUrl: 'http://127.0.0.1:9',
    clientAuth: 'tls_client_auth',
    pscYaml: `  certificate: { pkcs12: "${pki.clientP12File}", password: "\${P12}" }\n  outboundProxy: { url: "http://proxy.hopital.local:3128", username: svc, password: "\${PROXY_PASSWORD}" }\n`,
  })
  writeFileSync(file, yaml)
  const check = (p12: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [...TYPESCRIPT_NODE_ARGS, join(ROOT, 'src', 'cli.ts'), 'check', '--config', file],
        {
          encoding: 'utf8',
          env: { ...process.env, TEST_CLIENT_SECRET: 'unused-secret', P12: p12, PROXY_PASSWORD: 'proxy-secret-value' },
        },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
      )
    })
  const ok = await check(P12_PASSWORD)
  t.equal(ok.code, 0, ok.stderr)
  t.match(
    ok.stdout,
    /subject C=FR, O=CH de Test, CN=psc-gateway-test\n\s+issuer {2}C=FR, O=Test, CN=test-ca\n\s+expires 20[0-9-]+T/,
  )
  t.match(ok.stdout, 'Outbound proxy: http://proxy.hopital.local:3128 (user svc)')
  t.match(ok.stdout, 'Client authentication: tls_client_auth')
  t.notMatch(ok.stdout + ok.stderr, /PRIVATE KEY|proxy-secret-value|p12-password/)
  const bad = await check('not-the-password')
  t.equal(bad.code, 1)
  t.match(bad.stderr, /gw\.yaml:\d+:\d+: psc\.certificate\.pkcs12: .*client\.p12: wrong password/)
  t.notMatch(bad.stderr, /not-the-password/)
})

t.test('passwords written in clear in the file are refused', async (t) => {
  const { loadConfigText } = await import('../../src/config/load.js')
  const yaml = stackYaml({
    port: 8080,
    issuer: 'http://127.0.0.1:9/auth/realms/esante-wallet',
    upstreamUrl: 'http://127.0.0.1:9',
    pscYaml: `  outboundProxy: { url: "http://proxy:3128", username: svc, password: "in-clear" }\n  certificate: { pkcs12: "${pki.clientP12File}", password: "${P12_PASSWORD}" }\n`,
  })
  t.throws(
    () => loadConfigText(yaml, 'gw.yaml', { TEST_CLIENT_SECRET: 'x' }),
    /psc\.outboundProxy\.password: the proxy password is written in the file[\s\S]*psc\.certificate\.password: the certificate password is written in the file/,
  )
  const creds = stackYaml({
    port: 8080,
    issuer: 'http://127.0.0.1:9/auth/realms/esante-wallet',
    upstreamUrl: 'http://127.0.0.1:9',
    pscYaml: '  outboundProxy: { url: "http://u:p@proxy:3128" }\n',
  })
  t.throws(
    () => loadConfigText(creds, 'gw.yaml', { TEST_CLIENT_SECRET: 'x' }),
    /psc\.outboundProxy\.url: expected an outbound proxy URL without credentials, e\.g\. http:\/\/proxy\.hopital\.local:3128, got a string of 21 characters \(not shown: secret\)/,
  )
})
