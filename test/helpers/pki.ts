// Test certificates made by Debian's openssl at test time, in a temporary directory: a CA, the
// emulator's server certificate (127.0.0.1, localhost), a client certificate from the CA (PEM and
// PKCS#12), and a client certificate from another CA that PSC does not trust.
import { execFileSync } from 'node:child_process'
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { processAlive } from './ports.js'

export const OPENSSL = process.env.OPENSSL_BIN ?? '/usr/bin/openssl'
export const CLIENT_SUBJECT = '/C=FR/O=CH de Test/CN=psc-gateway-test'
export const CLIENT_DN = 'C=FR, O=CH de Test, CN=psc-gateway-test'
export const P12_PASSWORD = 'p12-password-for-tests'

export interface TestPki {
  dir: string
  caFile: string
  caPem: string
  serverCert: string
  serverKey: string
  /** client certificate from the CA */
  clientCertFile: string
  clientKeyFile: string
  clientP12File: string
  /** the client certificate from the CA in a PKCS#12 that also carries the CA (its chain) */
  clientP12WithChainFile: string
  /** the other CA (PEM file) */
  strangerCaFile: string
  /** same subject, issued by another CA */
  strangerP12File: string
  /** a client certificate from the CA, valid for `days` */
  issueClient(name: string, days: number): { certFile: string; keyFile: string }
  /** a server certificate from the CA for 127.0.0.1 and localhost, valid for `days` */
  issueServer(name: string, days: number): { certFile: string; keyFile: string }
  /** a server certificate from the CA for 127.0.0.1 that expired in 2020 */
  issueExpiredServer(name: string): { certFile: string; keyFile: string }
  close(): void
}

function openssl(dir: string, args: string[]): void {
  execFileSync(OPENSSL, args, { cwd: dir, stdio: 'pipe' })
}

function makeCa(dir: string, name: string): void {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-days',
    '365',
    '-subj',
    `/C=FR/O=Test/CN=${name}`,
  ])
}

/** A new RSA key (`name`.key) and its certificate request (`name`.csr) for `subject`. */
function keyAndRequest(dir: string, name: string, subject: string): void {
  openssl(dir, [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    subject,
  ])
}

function issue(dir: string, ca: string, name: string, subject: string, days: number, ext?: string): void {
  keyAndRequest(dir, name, subject)
  if (ext) writeFileSync(join(dir, `${name}.ext`), ext)
  const extArgs = ext ? ['-extfile', `${name}.ext`] : []
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    String(days),
    ...extArgs,
  ])
}

const SERVER_EXT = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'

/** The CAs, the server, client and stranger certificates and their PKCS#12 files, made in `dir`. */
function makeBase(dir: string): void {
  makeCa(dir, 'test-ca')
  makeCa(dir, 'stranger-ca')
  issue(
    dir,
    'test-ca',
    'server',
    '/C=FR/O=Test/CN=127.0.0.1',
    90,
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  )
  issue(dir, 'test-ca', 'client', CLIENT_SUBJECT, 90, 'extendedKeyUsage=clientAuth\n')
  issue(dir, 'stranger-ca', 'stranger', CLIENT_SUBJECT, 90, 'extendedKeyUsage=clientAuth\n')
  const p12 = (name: string) =>
    openssl(dir, [
      'pkcs12',
      '-export',
      '-in',
      `${name}.pem`,
      '-inkey',
      `${name}.key`,
      '-out',
      `${name}.p12`,
      '-passout',
      `pass:${P12_PASSWORD}`,
    ])
  p12('client')
  p12('stranger')
  openssl(dir, [
    'pkcs12',
    '-export',
    '-in',
    'client.pem',
    '-inkey',
    'client.key',
    '-certfile',
    'test-ca.pem',
    '-out',
    'client-chain.p12',
    '-passout',
    `pass:${P12_PASSWORD}`,
  ])
}

/** Where one tap run keeps its base PKI: its runner's pid names it. */
const SHARED = join(tmpdir(), 'psc-test-pki')
/** a base PKI older than this is made again (the tests read the certificates' days left) */
const SHARED_MAX_AGE_MS = 3_600_000

/**
 * The base PKI, made once per tap run and copied by every makeTestPki of that run: its five RSA
 * keys and eight openssl runs cost about two CPU-seconds, and about fifteen test files make one.
 * Made in a folder of its own, then renamed into place whole: concurrent test files never read a
 * half-made one (the loser of the race drops its own).
 */
function sharedBase(): string {
  const final = join(SHARED, `run-${process.ppid}`)
  const made = statSync(final, { throwIfNoEntry: false })
  if (made && Date.now() - made.mtimeMs < SHARED_MAX_AGE_MS) return final
  if (made) rmSync(final, { recursive: true, force: true })
  mkdirSync(SHARED, { recursive: true })
  // what runs and test processes that ended left behind
  for (const name of readdirSync(SHARED)) {
    const [kind, pid] = name.split('-')
    if ((kind === 'run' || kind === 'making') && !processAlive(Number(pid)))
      rmSync(join(SHARED, name), { recursive: true, force: true })
  }
  const making = mkdtempSync(join(SHARED, `making-${process.pid}-`))
  makeBase(making)
  try {
    renameSync(making, final)
  } catch {
    rmSync(making, { recursive: true, force: true })
  }
  return final
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'psc-pki-'))
  cpSync(sharedBase(), dir, { recursive: true })
  const f = (n: string) => join(dir, n)
  return {
    dir,
    caFile: f('test-ca.pem'),
    caPem: readFileSync(f('test-ca.pem'), 'utf8'),
    serverCert: readFileSync(f('server.pem'), 'utf8'),
    serverKey: readFileSync(f('server.key'), 'utf8'),
    clientCertFile: f('client.pem'),
    clientKeyFile: f('client.key'),
    clientP12File: f('client.p12'),
    clientP12WithChainFile: f('client-chain.p12'),
    strangerCaFile: f('stranger-ca.pem'),
    strangerP12File: f('stranger.p12'),
    issueClient(name, days) {
      issue(dir, 'test-ca', name, CLIENT_SUBJECT, days, 'extendedKeyUsage=clientAuth\n')
      return { certFile: f(`${name}.pem`), keyFile: f(`${name}.key`) }
    },
    issueServer(name, days) {
      issue(dir, 'test-ca', name, `/C=FR/O=Test/CN=${name}`, days, SERVER_EXT)
      return { certFile: f(`${name}.pem`), keyFile: f(`${name}.key`) }
    },
    issueExpiredServer(name) {
      // `x509 -req` cannot back-date; `openssl ca` takes explicit start and end dates.
      keyAndRequest(dir, name, `/CN=${name}`)
      writeFileSync(
        f(`${name}.cnf`),
        `[ca]\ndefault_ca=d\n[d]\ndatabase=${name}.index\nnew_certs_dir=.\nserial=${name}.serial\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n`,
      )
      writeFileSync(f(`${name}.index`), '')
      writeFileSync(f(`${name}.serial`), '01\n')
      openssl(dir, [
        'ca',
        '-batch',
        '-config',
        `${name}.cnf`,
        '-in',
        `${name}.csr`,
        '-cert',
        'test-ca.pem',
        '-keyfile',
        'test-ca.key',
        '-startdate',
        '20200101000000Z',
        '-enddate',
        '20200102000000Z',
        '-out',
        `${name}.pem`,
        '-notext',
      ])
      return { certFile: f(`${name}.pem`), keyFile: f(`${name}.key`) }
    },
    close() {
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
