// The gateway serving HTTPS itself (listen.tls): real handshakes with node:tls and node:https against
// openssl-made certificates: versions and ciphers, HSTS, a renewed certificate picked up without a
// restart (and a bad one refused), the HTTP listener that only redirects, and the start-up checks.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { Agent, request as httpsRequest } from 'node:https'
import { Writable } from 'node:stream'
import { connect, type ConnectionOptions } from 'node:tls'
import t from 'tap'
import { loadConfigText } from '../../src/config/load.js'
import { runCliBatch } from '../helpers/cli.js'
import { buildGateway } from '../../src/gateway.js'
import { makeTestPki } from '../helpers/pki.js'
import { freePort } from '../helpers/ports.js'
import { tlsGatewayYaml } from '../helpers/tls-gateway.js'
import { until } from '../helpers/until.js'

const pki = makeTestPki()
t.teardown(() => pki.close())
const first = pki.issueServer('first', 90)
const second = pki.issueServer('second', 90)
const other = pki.issueServer('other', 90)
const expired = pki.issueExpiredServer('expired')
// the files the gateway reads; the test overwrites them as a renewal would
const live = { cert: `${pki.dir}/live.pem`, key: `${pki.dir}/live.key` }
copyFileSync(first.certFile, live.cert)
copyFileSync(first.keyFile, live.key)

function yaml(o: { port: number; redirectPort?: number; cert?: string; key?: string; extra?: string }): string {
  return tlsGatewayYaml({ ...o, cert: o.cert ?? live.cert, key: o.key ?? live.key })
}

function handshake(port: number, options: ConnectionOptions = {}) {
  return new Promise<{ protocol: string | null; cipher: string; subject: string; fingerprint: string }>(
    (resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, ca: pki.caPem, servername: 'localhost', ...options }, () => {
        const peer = socket.getPeerCertificate()
        resolve({
          protocol: socket.getProtocol(),
          cipher: socket.getCipher().name,
          subject: peer.subject.CN as string,
          fingerprint: peer.fingerprint256,
        })
        socket.end()
      })
      socket.once('error', reject)
    },
  )
}

function get(url: string, headers: Record<string, string> = {}, method = 'GET', agent?: Agent) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>(
    (resolve, reject) => {
      const send = url.startsWith('https:') ? httpsRequest : httpRequest
      const req = send(url, { method, headers, ca: pki.caPem, ...(agent && { agent }) }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (body += c))
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
      })
      req.once('error', reject)
      req.end()
    },
  )
}

t.test('HTTPS listener: handshake, versions, ciphers, HSTS, renewal, redirect', async (t) => {
  const port = await freePort()
  const redirectPort = await freePort()
  const { config } = loadConfigText(yaml({ port, redirectPort }), 'gateway.yaml', {})
  const logs: string[] = []
  const logStream = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8'))
      done()
    },
  })
  const gateway = await buildGateway(config, { logStream })
  const { url } = await gateway.listen()
  t.teardown(() => gateway.close(0))
  t.match(url, /^https:\/\/127\.0\.0\.1:/, 'fastify listens with TLS')

  const h13 = await handshake(port)
  t.equal(h13.protocol, 'TLSv1.3', 'TLS 1.3 when the client offers it')
  t.equal(h13.subject, 'first')

  const h12 = await handshake(port, { maxVersion: 'TLSv1.2' })
  t.equal(h12.protocol, 'TLSv1.2', 'TLS 1.2 still accepted')
  t.match(h12.cipher, /^ECDHE-(RSA|ECDSA)-(AES\d+-GCM|CHACHA20)/, `forward-secret AEAD cipher (${h12.cipher})`)

  await t.rejects(
    handshake(port, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }),
    { message: /protocol version|unsupported protocol|no protocols available/i },
    'TLS 1.1 refused',
  )
  await t.rejects(
    handshake(port, {
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA:AES128-GCM-SHA256',
    }),
    { message: /handshake failure|no shared cipher/i },
    'CBC and RSA key exchange suites refused',
  )

  const page = await get(`${url}/anything`)
  t.equal(page.headers['strict-transport-security'], 'max-age=31536000', 'HSTS on the gateway answers')

  // A connection opened before the renewal keeps working on its session.
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 1, ca: pki.caPem })
  t.teardown(() => keepAlive.destroy())
  const before = await get(`${url}/before`, {}, 'GET', keepAlive)
  t.ok(before.status > 0)

  copyFileSync(second.certFile, live.cert)
  copyFileSync(second.keyFile, live.key)
  await until('the renewed certificate', async () => (await handshake(port)).subject === 'second', 10_000)
  t.pass('the renewed certificate is served without a restart')
  const after = await get(`${url}/after`, {}, 'GET', keepAlive)
  t.equal(after.status, before.status, 'the connection opened before still answers')
  t.ok(
    logs.some((l) => l.includes('TLS certificate renewed')),
    'the renewal is logged',
  )

  // A key that does not match: refused, logged, the previous certificate kept.
  writeFileSync(live.key, readFileSync(other.keyFile))
  await until('the refusal in the log', async () => logs.some((l) => l.includes('new TLS certificate refused')), 10_000)
  t.equal((await handshake(port)).subject, 'second', 'a bad new pair leaves the previous certificate in use')
  t.notOk(logs.join('\n').includes('PRIVATE KEY'), 'no key material in the log')
  copyFileSync(second.keyFile, live.key)

  // The redirect listener.
  const redirect = `http://127.0.0.1:${redirectPort}`
  const moved = await get(`${redirect}/dossier/42?onglet=notes`, { host: 'evil.example' })
  t.equal(moved.status, 308)
  t.equal(moved.headers.location, `https://127.0.0.1:${port}/dossier/42?onglet=notes`, 'to publicUrl, not the Host')
  t.match(moved.body, /lang="fr"/)
  t.equal((await get(redirect, {}, 'HEAD')).status, 308, 'HEAD redirected too')
  const post = await get(`${redirect}/login`, {}, 'POST')
  t.equal(post.status, 405, 'a POST in clear is refused')
  t.equal(post.headers.allow, 'GET, HEAD')
  t.match(post.body, /Connexion non sécurisée refusée/)
  const english = await get(`${redirect}/login`, { 'accept-language': 'en' }, 'POST')
  t.match(english.body, /Insecure connection refused/)
})

t.test('TLS 1.3 only, HSTS turned off', async (t) => {
  const port = await freePort()
  const extra = '    minVersion: TLSv1.3\n    hsts: { maxAge: 0 }\n'
  const { config } = loadConfigText(yaml({ port, extra }), 'gateway.yaml', {})
  const gateway = await buildGateway(config, { logStream: new Writable({ write: (_c, _e, done) => done() }) })
  const { url } = await gateway.listen()
  t.teardown(() => gateway.close(0))
  await t.rejects(handshake(port, { maxVersion: 'TLSv1.2' }), 'TLS 1.2 refused with minVersion TLSv1.3')
  t.equal((await get(`${url}/x`)).headers['strict-transport-security'], undefined, 'no HSTS with maxAge 0')
})

t.test('start-up and check refuse unusable TLS files with the file and key', async (t) => {
  const port = 8443
  const refused = (over: { cert?: string; key?: string; extra?: string }, re: RegExp, why: string) =>
    t.throws(() => loadConfigText(yaml({ port, ...over }), 'gateway.yaml', {}), { message: re }, why)
  refused(
    { cert: `${pki.dir}/missing.pem` },
    /gateway\.yaml:\d+:\d+: listen\.tls\.cert: cannot read the certificate .*missing\.pem \(ENOENT\)/,
    'unreadable certificate',
  )
  refused(
    { cert: first.certFile, key: other.keyFile },
    /gateway\.yaml:\d+:\d+: listen\.tls\.key: .*the key does not belong to the certificate/,
    'key of another certificate',
  )
  refused(
    { cert: expired.certFile, key: expired.keyFile },
    /listen\.tls\.cert: the certificate expired on 2020-01-02/,
    'expired',
  )
  refused(
    { cert: first.keyFile, key: first.keyFile },
    /listen\.tls\.cert: .*not a PEM certificate/,
    'a key given as certificate',
  )
  t.throws(
    () =>
      loadConfigText(
        yaml({ port }).replace(/ {2}tls:\n {4}cert: .*\n {4}key: .*\n/, '  httpRedirect: { port: 8080 }\n'),
        'gateway.yaml',
        {},
      ),
    { message: /listen\.httpRedirect: httpRedirect redirects to HTTPS: it needs listen\.tls/ },
    'a redirect listener without TLS',
  )
  const file = `${pki.dir}/mismatched.yaml`
  writeFileSync(file, yaml({ port, cert: first.certFile, key: other.keyFile }))
  const good = `${pki.dir}/good.yaml`
  writeFileSync(good, yaml({ port, redirectPort: 8080, cert: first.certFile, key: first.keyFile }))
  const [checked, accepted] = await runCliBatch([
    { args: ['check', '--config', file] },
    { args: ['check', '--config', good] },
  ])
  t.match(
    accepted!.stdout,
    /HTTPS: port 8443, certificate .*first\.pem, TLSv1\.2 or later, HTTP port 8080 redirects/,
    'check describes the HTTPS listener',
  )
  t.equal(checked!.code, 1, 'check exits 1')
  t.match(
    checked!.stderr,
    /mismatched\.yaml:\d+:\d+: listen\.tls\.key: .*the key does not belong to the certificate/,
    'check names file, line and key',
  )
  const soon = pki.issueServer('soon', 3)
  const { warnings } = loadConfigText(yaml({ port, cert: soon.certFile, key: soon.keyFile }), 'gateway.yaml', {})
  t.match(
    warnings.join('\n'),
    /listen\.tls\.cert: the certificate expires on/,
    'a certificate about to expire is a warning',
  )
})
