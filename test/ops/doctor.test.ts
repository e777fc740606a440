// psc-gateway doctor against the real emulator, one injected fault at a time: wrong secret,
// certificate of another CA, proxy down, PSC down, clock skew (the emulator shifts its Date), and
// the verdicts around them (proxy refusing CONNECT, untrusted TLS chain, certificate near expiry).
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { loadConfigText } from '../../src/config/load.js'
import { startEmulator, type RunningEmulator } from '../../dev/emulator/index.js'
import { runDoctor, type DoctorCheck, type DoctorReport } from '../../src/ops/doctor.js'
import { CLIENT_DN, makeTestPki, P12_PASSWORD, type TestPki } from '../helpers/pki.js'
import { CLIENT_ID, CLIENT_SECRET, freePort, stackYaml, type StackOptions } from '../helpers/stack.js'
import { startTinyproxy } from '../helpers/tinyproxy.js'
import { PSC_ERR_OUTBOUND_PROXY, PSC_ERR_PSC_TLS, PSC_ERR_PSC_UNREACHABLE } from '../../src/errors.js'
import { TYPESCRIPT_NODE_ARGS } from '../helpers/typescript-node.js'

const ROOT = join(import.meta.dirname, '..', '..')
const PORT = 8443

function client(extra: { tlsClientAuthSubjectDn?: string } = {}) {
  return {
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUris: [`http://127.0.0.1:${PORT}/_psc/callback`],
    postLogoutRedirectUris: [`http://127.0.0.1:${PORT}/_psc/logged-out`],
    ...extra,
  }
}

function yamlFor(issuer: string, o: StackOptions = {}): string {
  return stackYaml({ port: PORT, issuer, upstreamUrl: 'http://127.0.0.1:9', ...o })
}

/** English findings unless `lang` says otherwise (the French default has its own tests below). */
async function doctor(
  issuer: string,
  o: StackOptions & { secret?: string; lang?: 'fr' | 'en'; processEnv?: Record<string, string> } = {},
): Promise<DoctorReport> {
  const { config, warnings } = loadConfigText(yamlFor(issuer, o), 'doctor-test.yaml', {
    TEST_CLIENT_SECRET: o.secret ?? CLIENT_SECRET,
    ...o.env,
  })
  return runDoctor(config, warnings, { env: o.processEnv ?? {}, timeoutMs: 3000, lang: o.lang ?? 'en' })
}

function check(report: DoctorReport, name: DoctorCheck['name']): DoctorCheck {
  const c = report.checks.find((x) => x.name === name)
  if (c === undefined) throw new Error(`no ${name} check in ${JSON.stringify(report)}`)
  return c
}

let plain: RunningEmulator
let mtls: RunningEmulator
let pki: TestPki
t.before(async () => {
  pki = makeTestPki()
  plain = await startEmulator({ port: 0, clients: [client()] })
  mtls = await startEmulator({
    port: 0,
    tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caPem },
    clients: [client({ tlsClientAuthSubjectDn: CLIENT_DN })],
  })
})
t.teardown(async () => {
  await plain.close()
  await mtls.close()
  pki.close()
})

const mtlsOptions = (p12: string): StackOptions => ({
  clientAuth: 'tls_client_auth',
  pscYaml: `  tls: { ca: "${pki.caFile}" }\n  certificate: { pkcs12: "${p12}", password: "\${P12_PASSWORD}" }\n`,
  env: { P12_PASSWORD },
})

t.test('a sound configuration: every check passes, client authentication by a made-up code', async (t) => {
  const report = await doctor(plain.issuer, {
    pscYaml: `  registered:\n    redirectUris: ["http://127.0.0.1:${PORT}/_psc/*"]\n    postLogoutRedirectUris: ["http://127.0.0.1:${PORT}/_psc/logged-out"]\n`,
  })
  t.equal(report.ok, true, JSON.stringify(report.checks.filter((c) => c.verdict === 'fail')))
  t.equal(check(report, 'discovery').verdict, 'ok')
  t.equal(check(report, 'jwks').verdict, 'ok')
  t.match(check(report, 'jwks').detail, /1 signing key/)
  t.equal(check(report, 'clock').verdict, 'ok')
  t.equal(check(report, 'client-auth').verdict, 'ok')
  t.match(check(report, 'client-auth').detail, /invalid_grant/)
  t.equal(check(report, 'registered-urls').verdict, 'ok')
  t.equal(check(report, 'proxy').verdict, 'skip')
  t.equal(check(report, 'dns').verdict, 'ok')
})

t.test('wrong client secret: invalid_client, and what to check', async (t) => {
  const report = await doctor(plain.issuer, { secret: 'not-the-secret-ANS-gave-us' })
  t.equal(report.ok, false)
  const c = check(report, 'client-auth')
  t.equal(c.verdict, 'fail')
  t.match(c.detail, /refused the client id psc-gateway-test and its secret: invalid_client/)
  t.match(c.todo, /psc.clientSecret/)
  t.notMatch(JSON.stringify(report), /not-the-secret-ANS-gave-us/, 'the secret is never printed')
})

t.test(
  'mTLS: the certificate from the trusted CA is accepted; one of another CA is refused in the handshake, or gets invalid_client',
  async (t) => {
    const good = await doctor(mtls.issuer, mtlsOptions(pki.clientP12File))
    t.equal(check(good, 'tls').verdict, 'ok')
    t.equal(check(good, 'client-auth').verdict, 'ok', check(good, 'client-auth').detail)
    t.match(check(good, 'client-auth').detail, /client certificate \(C=FR, O=CH de Test, CN=psc-gateway-test\)/)
    t.equal(check(good, 'certificate').verdict, 'ok')
    t.match(check(good, 'certificate').detail, /issued by C=FR, O=Test, CN=test-ca/)

    t.match(check(good, 'client-auth').detail, /PSC accepted/, 'through the mTLS alias of the token endpoint')

    // PSC refuses another CA's certificate in the handshake: a certificate problem, not the network
    const stranger = await doctor(mtls.issuer, mtlsOptions(pki.strangerP12File))
    t.equal(stranger.ok, false)
    const c = check(stranger, 'client-auth')
    t.equal(c.verdict, 'fail')
    t.match(
      c.detail,
      /^PSC refused the client certificate \(PSC_ERR_CLIENT_CERTIFICATE_REFUSED: PSC at 127\.0\.0\.1:[0-9]+ refused the client certificate \(C=FR, O=CH de Test, CN=psc-gateway-test, issued by C=FR, O=Test, CN=stranger-ca\) in the TLS handshake/,
    )
    t.match(c.todo, /PSC refuses the client certificate: it must be the IGC Santé certificate registered at ANS/)
    t.notMatch(c.todo, /firewall|DNS/)
    t.notMatch(c.detail, /cannot be reached/)

    // a PSC that lets the handshake through and refuses at the token endpoint: invalid_client
    const lenient = await startEmulator({
      port: 0,
      tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caPem, refuseUnknownClientCertificates: false },
      clients: [client({ tlsClientAuthSubjectDn: CLIENT_DN })],
    })
    t.teardown(() => lenient.close())
    const refused = check(await doctor(lenient.issuer, mtlsOptions(pki.strangerP12File)), 'client-auth')
    t.equal(refused.verdict, 'fail')
    t.match(refused.detail, /refused the client certificate .*invalid_client/)
    t.match(refused.todo, /IGC Santé/)
  },
)

t.test("a PKCS#12 that carries its CA chain does not make that CA trusted for PSC's server", async (t) => {
  const withChain = (ca?: string): StackOptions => ({
    clientAuth: 'tls_client_auth',
    pscYaml: `${ca ? `  tls: { ca: "${ca}" }\n` : ''}  certificate: { pkcs12: "${pki.clientP12WithChainFile}", password: "\${P12_PASSWORD}" }\n`,
    env: { P12_PASSWORD },
  })
  for (const [label, ca] of [
    ['no psc.tls.ca', undefined],
    ['a wrong psc.tls.ca', pki.strangerCaFile],
  ] as const) {
    const report = await doctor(mtls.issuer, withChain(ca))
    const tls = check(report, 'tls')
    t.equal(tls.verdict, 'fail', label)
    t.notMatch(tls.detail, /chain verified/, label)
    t.match(tls.detail, /only the PKCS#12 file's own chain vouches for/, label)
    t.match(check(report, 'discovery').detail, PSC_ERR_PSC_TLS, label)
  }
  const trusted = await doctor(mtls.issuer, withChain(pki.caFile))
  t.equal(check(trusted, 'tls').verdict, 'ok', 'with the right psc.tls.ca')
  t.equal(check(trusted, 'client-auth').verdict, 'ok')
})

t.test("PSC's TLS chain not trusted (no psc.tls.ca): the tls check fails and says what to add", async (t) => {
  const report = await doctor(mtls.issuer)
  const tls = check(report, 'tls')
  t.equal(tls.verdict, 'fail')
  t.match(tls.detail, /TLS with 127\.0\.0\.1:[0-9]+ failed/)
  t.match(tls.todo, /psc\.tls\.ca/)
  t.match(check(report, 'discovery').detail, PSC_ERR_PSC_TLS)
})

t.test('a certificate that expires in 10 days: a warning, not a failure', async (t) => {
  const soon = pki.issueClient('soon', 10)
  const report = await doctor(mtls.issuer, {
    clientAuth: 'tls_client_auth',
    pscYaml: `  tls: { ca: "${pki.caFile}" }\n  certificate: { cert: "${soon.certFile}", key: "${soon.keyFile}" }\n`,
  })
  const c = check(report, 'certificate')
  t.equal(c.verdict, 'warn')
  t.match(c.detail, /expires in (9|10) day/)
  t.equal(check(report, 'client-auth').verdict, 'ok', 'PEM cert + key work too')
})

t.test('outbound proxy: fine, down, or refusing CONNECT', async (t) => {
  const proxy = await startTinyproxy()
  t.teardown(() => proxy.close())
  const via = { pscYaml: `  outboundProxy: { url: "${proxy.url}" }\n` }
  const fine = await doctor(plain.issuer, via)
  t.equal(check(fine, 'proxy').verdict, 'ok')
  t.match(check(fine, 'proxy').detail, `the outbound proxy ${proxy.url} accepts CONNECT`)
  t.equal(fine.ok, true)
  t.ok(
    proxy.requests().some((r) => r.startsWith('POST ') && r.includes('/protocol/openid-connect/token')),
    'the token call went through the proxy',
  )

  await proxy.stop()
  const down = await doctor(plain.issuer, via)
  t.equal(down.ok, false)
  t.equal(check(down, 'proxy').verdict, 'fail')
  t.match(check(down, 'proxy').detail, `the outbound proxy ${proxy.url} cannot be reached (ECONNREFUSED)`)
  t.match(check(down, 'discovery').detail, PSC_ERR_OUTBOUND_PROXY)
  t.notMatch(check(down, 'discovery').detail, PSC_ERR_PSC_UNREACHABLE)

  const strict = await startTinyproxy({ connectPorts: [443] })
  t.teardown(() => strict.close())
  const refused = await doctor(mtls.issuer, {
    ...mtlsOptions(pki.clientP12File),
    pscYaml: `  outboundProxy: { url: "${strict.url}" }\n${mtlsOptions(pki.clientP12File).pscYaml!}`,
  })
  t.equal(check(refused, 'proxy').verdict, 'fail')
  t.match(check(refused, 'proxy').detail, /refuses CONNECT to 127\.0\.0\.1:[0-9]+ \(403\)/)
  t.match(check(refused, 'discovery').detail, PSC_ERR_OUTBOUND_PROXY)
})

t.test('PSC down: discovery fails with PSC_ERR_PSC_UNREACHABLE', async (t) => {
  const port = await freePort()
  const report = await doctor(`http://127.0.0.1:${port}/auth/realms/esante-wallet`)
  t.equal(report.ok, false)
  t.match(
    check(report, 'discovery').detail,
    `${PSC_ERR_PSC_UNREACHABLE}: PSC at 127.0.0.1:${port} cannot be reached (ECONNREFUSED)`,
  )
  t.equal(check(report, 'client-auth').verdict, 'skip')
})

t.test("clock skew, measured on PSC's Date header: 120 s fails, 10 s warns", async (t) => {
  for (const [shift, verdict] of [
    [120, 'fail'],
    [-120, 'fail'],
    [10, 'warn'],
  ] as const) {
    const skewed = await startEmulator({ port: 0, clients: [client()], dateShiftSeconds: shift })
    const report = await doctor(skewed.issuer)
    await skewed.close()
    const c = check(report, 'clock')
    t.equal(c.verdict, verdict, `${shift} s`)
    t.match(
      c.detail,
      new RegExp(
        `clock is (${Math.abs(shift) - 1}|${Math.abs(shift)}|${Math.abs(shift) + 1}) s ${shift > 0 ? 'behind' : 'ahead of'} PSC's`,
      ),
    )
    if (verdict === 'fail') t.match(c.todo, /NTP/)
  }
})

t.test('the command: one line per check, exit 1 on a failure, --json', async (t) => {
  const dir = t.testdir({})
  const good = join(dir, 'good.yaml')
  const bad = join(dir, 'bad.yaml')
  writeFileSync(good, yamlFor(plain.issuer))
  writeFileSync(bad, yamlFor(plain.issuer))
  // asynchronously: the emulator lives in this process and must answer meanwhile
  const run = (file: string, secret: string, json = false, extra: string[] = []) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [
          ...TYPESCRIPT_NODE_ARGS,
          join(ROOT, 'src', 'cli.ts'),
          'doctor',
          '--config',
          file,
          ...(json ? ['--json'] : []),
          ...extra,
        ],
        {
          encoding: 'utf8',
          env: {
            ...process.env,
            TEST_CLIENT_SECRET: secret,
            HTTPS_PROXY: '',
            HTTP_PROXY: '',
            https_proxy: '',
            http_proxy: '',
          },
          timeout: 60_000,
        },
        (err, stdout, stderr) =>
          resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
      )
    })
  const ok = await run(good, CLIENT_SECRET)
  t.equal(ok.status, 0, ok.stderr)
  t.match(
    ok.stdout,
    /^\[ OK \] client-auth : PSC a accepté l'identifiant client psc-gateway-test et son secret/m,
    'in French by default',
  )
  t.match(ok.stdout, /^\[SKIP\] proxy : pas de proxy de sortie vers PSC/m)
  t.match(ok.stdout, /^doctor : aucun échec$/m)
  const english = await run(good, CLIENT_SECRET, false, ['--lang', 'en'])
  t.match(english.stdout, /^\[ OK \] client-auth: PSC accepted the client id/m, '--lang en: in English')
  t.match(english.stdout, /^doctor: no failure$/m)
  const ko = await run(bad, 'wrong-secret-wrong-secret', true)
  t.equal(ko.status, 1)
  const report = JSON.parse(ko.stdout) as DoctorReport
  t.equal(report.ok, false)
  t.equal(report.checks.find((c) => c.name === 'client-auth')?.verdict, 'fail')
  const invalid = join(dir, 'invalid.yaml')
  writeFileSync(invalid, 'publicUrl: 12\n')
  const cfg = await run(invalid, CLIENT_SECRET)
  t.equal(cfg.status, 1)
  t.match(cfg.stdout, /^\[FAIL\] config : .*invalid\.yaml:1/m)
  t.match(cfg.stdout, /→ corrigez .*invalid\.yaml \(psc-gateway check --config/)
  const missing = await run(join(dir, 'absent.yaml'), CLIENT_SECRET)
  t.equal(missing.status, 1)
  t.match(missing.stdout, `[FAIL] config : fichier introuvable : ${join(dir, 'absent.yaml')}`)
  t.notMatch(missing.stdout, /ENOENT/)
  const missingEn = await run(join(dir, 'absent.yaml'), CLIENT_SECRET, false, ['--lang', 'en'])
  t.match(missingEn.stdout, `[FAIL] config: file not found: ${join(dir, 'absent.yaml')}`)
  const badLang = await run(good, CLIENT_SECRET, false, ['--lang', 'de'])
  t.equal(badLang.status, 2)
  t.match(badLang.stderr, /--lang: expected fr or en, got "de"/)
})

t.test('in French by default: every finding and every piece of advice', async (t) => {
  const report = await doctor(plain.issuer, { secret: 'not-the-secret-ANS-gave-us', lang: 'fr' })
  const c = check(report, 'client-auth')
  t.equal(c.detail, "PSC a refusé l'identifiant client psc-gateway-test et son secret : invalid_client")
  t.match(c.todo, /^vérifiez psc\.clientId et psc\.clientSecret pour cet environnement/)
  t.match(check(report, 'config').detail, /^doctor-test\.yaml est valide/)
  t.match(check(report, 'proxy').detail, /^pas de proxy de sortie/)
  t.match(
    check(report, 'clock').detail,
    /^l'horloge de ce serveur est (en avance|en retard) de \d+ s sur celle de PSC$/,
  )
  t.match(check(report, 'registered-urls').todo, /^recopiez dans psc\.registered/)
  // No English sentence left: the words every English finding used.
  for (const x of report.checks) {
    t.notMatch(
      `${x.detail} ${x.todo ?? ''}`,
      /\b(the|is|check|set|not|with|answered|accepted|refused)\b/,
      `${x.name}: ${x.detail}`,
    )
  }
  const down = await doctor(`http://127.0.0.1:${await freePort()}/auth/realms/esante-wallet`, { lang: 'fr' })
  t.match(check(down, 'discovery').detail, /^PSC injoignable \(PSC_ERR_PSC_UNREACHABLE : /)
  t.equal(check(down, 'discovery').todo, 'vérifiez que ce serveur peut joindre PSC (pare-feu, proxy, DNS)')
  t.equal(check(down, 'jwks').detail, 'pas de document de découverte')
})

t.test(
  'a proxy that asks for a password, named by HTTPS_PROXY/HTTP_PROXY: the advice names that variable, not config keys',
  async (t) => {
    const proxy = await startTinyproxy({ basicAuth: { user: 'gw', password: 'proxy-pass' } })
    t.teardown(() => proxy.close())
    // the emulator is http://: the variable read is HTTP_PROXY
    const fromEnv = await doctor(plain.issuer, { processEnv: { HTTP_PROXY: proxy.url } })
    const p = check(fromEnv, 'proxy')
    t.equal(p.verdict, 'fail')
    t.match(p.detail, /asks for authentication \(407\)/)
    t.match(p.todo, /^put the user name and password in HTTP_PROXY \(http:\/\/user:password@proxy:port\)/)
    const fr = await doctor(plain.issuer, { processEnv: { http_proxy: proxy.url }, lang: 'fr' })
    t.match(check(fr, 'proxy').todo, /^mettez l'identifiant et le mot de passe dans http_proxy/)
    const fromConfig = await doctor(plain.issuer, { pscYaml: `  outboundProxy: { url: "${proxy.url}" }\n` })
    t.match(
      check(fromConfig, 'proxy').todo,
      /^set psc\.outboundProxy\.username and password/,
      'named in the file: the keys',
    )
    const withPassword = await doctor(plain.issuer, {
      processEnv: { HTTP_PROXY: proxy.url.replace('http://', 'http://gw:proxy-pass@') },
    })
    t.equal(check(withPassword, 'proxy').verdict, 'ok', 'the credentials in the variable work')
  },
)

t.test('the proxy answers 500 (it cannot reach PSC): the proxy is blamed, not psc.environment', async (t) => {
  const proxy = await startTinyproxy()
  t.teardown(() => proxy.close())
  const closed = await freePort()
  const report = await doctor(`http://127.0.0.1:${closed}/auth/realms/esante-wallet`, {
    pscYaml: `  outboundProxy: { url: "${proxy.url}" }\n`,
  })
  const d = check(report, 'discovery')
  t.equal(d.verdict, 'fail')
  t.match(d.detail, `the outbound proxy ${proxy.url} answered 500`)
  t.notMatch(d.todo, /psc\.environment/)
  t.match(d.todo, /the outbound proxy failed, not the configuration/)
  const fr = await doctor(`http://127.0.0.1:${closed}/auth/realms/esante-wallet`, {
    pscYaml: `  outboundProxy: { url: "${proxy.url}" }\n`,
    lang: 'fr',
  })
  t.match(check(fr, 'discovery').todo, /^le proxy de sortie a échoué, pas la configuration/)
})
