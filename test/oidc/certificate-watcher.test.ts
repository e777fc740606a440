// Renewed PEM certificate and key files, written one after the other as a person or a job does it:
// the watcher reads them once both have settled and hands over the new certificate; a certificate
// whose key does not match is refused and the current one kept.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { CertificateWatcher, type CertificateRenewal } from '../../src/oidc/certificate-watcher.js'
import { loadClientCertificate } from '../../src/config/client-certificate.js'
import { makeTestPki } from '../helpers/pki.js'

const pki = makeTestPki()
t.teardown(() => pki.close())

async function until(check: () => boolean, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
}

t.test('cert then key replaced: one renewal, to the new certificate', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'psc-watch-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const files = { cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key') }
  copyFileSync(pki.clientCertFile, files.cert)
  copyFileSync(pki.clientKeyFile, files.key)
  const first = loadClientCertificate(files)
  const seen: CertificateRenewal[] = []
  const watcher = new CertificateWatcher(first, 100, (r) => seen.push(r))
  t.teardown(() => watcher.close())

  const next = pki.issueClient('renewed', 90)
  copyFileSync(next.certFile, files.cert)
  await new Promise((r) => setTimeout(r, 50)) // time passing: a watcher tick (100 ms) may see the new certificate with the old key
  copyFileSync(next.keyFile, files.key)
  await until(() => seen.some((r) => r.outcome === 'renewed'))
  const renewed = seen.filter((r) => r.outcome === 'renewed')
  t.equal(renewed.length, 1)
  t.not(renewed[0]?.outcome === 'renewed' && renewed[0].certificate.info.serialNumber, first.info.serialNumber)
  t.equal(renewed[0]?.outcome === 'renewed' && renewed[0].previous.info.serialNumber, first.info.serialNumber)

  // a certificate without its key: refused, the renewed one stays
  const other = pki.issueClient('other', 90)
  copyFileSync(other.certFile, files.cert)
  await until(() => seen.some((r) => r.outcome === 'refused'))
  const refused = seen.find((r) => r.outcome === 'refused')
  t.match(refused, { outcome: 'refused', error: /the key does not belong to the certificate/ })
  t.equal(seen.filter((r) => r.outcome === 'renewed').length, 1)
})
