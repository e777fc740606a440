// HTTPS with workers, with real processes and openssl-made certificates: `serve` with listen.tls and
// workers: 2 serves TLS from every worker, each picks up a renewed certificate without a restart,
// and the listen.httpRedirect listener (opened by every worker on one port) answers 308 to publicUrl.
import { copyFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { connect } from 'node:tls'
import t from 'tap'
import { spawnGateway, until } from '../helpers/gateway-process.js'
import { makeTestPki } from '../helpers/pki.js'
import { freePort } from '../helpers/ports.js'
import { tlsGatewayYaml } from '../helpers/tls-gateway.js'

t.setTimeout(300_000)

const pki = makeTestPki()
t.teardown(() => pki.close())
const first = pki.issueServer('first', 90)
const second = pki.issueServer('second', 90)
const live = { cert: `${pki.dir}/live.pem`, key: `${pki.dir}/live.key` }
copyFileSync(first.certFile, live.cert)
copyFileSync(first.keyFile, live.key)

/** The certificate's subject a new connection is shown. */
const subject = (port: number) =>
  new Promise<string>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: pki.caPem, servername: 'localhost' }, () => {
      resolve(socket.getPeerCertificate().subject.CN as string)
      socket.end()
    })
    socket.once('error', reject)
  })

/** Many new connections: the kernel spreads them over both workers (SO_REUSEPORT). */
const subjects = async (port: number) => new Set(await Promise.all(Array.from({ length: 24 }, () => subject(port))))

const redirected = (port: number, path: string) =>
  new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume()
      resolve({ status: res.statusCode!, location: res.headers.location })
    })
    req.once('error', reject)
    req.end()
  })

t.test('workers: 2 with listen.tls: TLS from every worker, a renewal picked up by each, the redirect', async (t) => {
  const [port, redirectPort] = [await freePort(), await freePort()]
  const yaml = `${tlsGatewayYaml({ head: 'workers: 2', port, redirectPort, ...live })}lifecycle: { watchConfig: false }\n`
  const gateway = spawnGateway(yaml, 'cluster-tls')
  t.teardown(() => gateway.stop('SIGKILL'))
  const out = () => gateway.output.join('')
  await until('both workers listening', async () => {
    if (gateway.child.exitCode !== null) throw new Error(`serve exited:\n${out()}`)
    return /psc-gateway listening/.test(out())
  })
  t.same(await subjects(port), new Set(['first']), 'every connection gets the certificate, over TLS')

  copyFileSync(second.certFile, live.cert)
  copyFileSync(second.keyFile, live.key)
  const renewedBy = () =>
    new Set(
      out()
        .split('\n')
        .filter((l) => l.includes('TLS certificate renewed'))
        .map((l) => (JSON.parse(l) as { worker?: number }).worker),
    )
  await until('each worker to take the renewed certificate', async () => renewedBy().size === 2, 30_000)
  t.same(renewedBy(), new Set([1, 2]), 'each worker watched the files and swapped the certificate')
  t.same(await subjects(port), new Set(['second']), 'every new connection gets the renewed one')

  for (let i = 0; i < 6; i++) {
    const moved = await redirected(redirectPort, `/dossier/${i}?onglet=notes`)
    t.same(moved, { status: 308, location: `https://127.0.0.1:${port}/dossier/${i}?onglet=notes` })
  }
  t.equal(await gateway.stop('SIGTERM'), 0, 'and it stops cleanly, redirect listeners and all')
})
