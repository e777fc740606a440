// A real OpenLDAP (Debian's slapd) on loopback ports, shaped like an Active Directory: users with
// employeeID (the RPPS), sAMAccountName, displayName and memberOf; groups with member. Started in
// the foreground (-d 0) from a cn=config generated here with slapadd (mdb backend), plain LDAP and
// LDAPS with a certificate from a test CA made by openssl. stop()/start() is a directory outage.
import { waitForPort } from './ports.js'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './stack.js'

export const LDAP_BASE = 'dc=hopital,dc=local'
export const LDAP_BIND_DN = `cn=svc-psc,ou=Services,${LDAP_BASE}`
export const LDAP_BIND_PASSWORD = 'svc-psc-test-password-7Hq2'

export interface DirectoryUser {
  rpps: string
  login: string
  displayName: string
  groups: string[]
  /** Active Directory's userAccountControl (512: a normal account, 514: the same, disabled); absent by default */
  userAccountControl?: number
  /** the entry's RDN value when two entries share a login (default: the login) */
  cn?: string
}

export interface Slapd {
  ldapUrl: string
  ldapsUrl: string
  /** the test CA (PEM file) that signed the server's certificate */
  caFile: string
  /** a CA that did not sign it */
  otherCaFile: string
  pid(): number | undefined
  start(): Promise<void>
  stop(): Promise<void>
  /** SIGSTOP, returning once every thread is stopped: a directory that accepts connections and never answers */
  freeze(): Promise<void>
  /** SIGCONT */
  thaw(): void
  /** SIGKILL: the process dies without a word to its clients (no TLS close_notify, no LDAP notice) */
  crash(): Promise<void>
  close(): Promise<void>
}

const SLAPD = process.env.SLAPD_BIN ?? '/usr/sbin/slapd'
const SLAPADD = process.env.SLAPADD_BIN ?? '/usr/sbin/slapadd'

function makeCa(dir: string, name: string): { key: string; cert: string } {
  const key = join(dir, `${name}.key`)
  const cert = join(dir, `${name}.crt`)
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=${name} test CA/O=CHU de test`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    { stdio: 'ignore' },
  )
  return { key, cert }
}

function makeServerCert(dir: string, ca: { key: string; cert: string }): { key: string; cert: string } {
  const key = join(dir, 'server.key')
  const csr = join(dir, 'server.csr')
  const cert = join(dir, 'server.crt')
  const ext = join(dir, 'server.ext')
  writeFileSync(
    ext,
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
  )
  execFileSync(
    'openssl',
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=localhost'],
    { stdio: 'ignore' },
  )
  execFileSync(
    'openssl',
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-CAcreateserial',
      '-out',
      cert,
      '-days',
      '2',
      '-extfile',
      ext,
    ],
    { stdio: 'ignore' },
  )
  return { key, cert }
}

function configLdif(dir: string, tls: { cert: string; key: string; ca: string }): string {
  return `dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: ${dir}/slapd.pid
olcTLSCertificateFile: ${tls.cert}
olcTLSCertificateKeyFile: ${tls.key}
olcTLSCACertificateFile: ${tls.ca}

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif

dn: cn=ad,cn=schema,cn=config
objectClass: olcSchemaConfig
cn: ad
olcAttributeTypes: ( 1.2.840.113556.1.4.35 NAME 'employeeID' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
olcAttributeTypes: ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
olcAttributeTypes: ( 1.2.840.113556.1.2.102 NAME 'memberOf' EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )
olcAttributeTypes: ( 1.2.840.113556.1.4.8 NAME 'userAccountControl' EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
olcObjectClasses: ( 1.2.840.113556.1.5.9 NAME 'user' SUP inetOrgPerson STRUCTURAL MAY ( employeeID $ sAMAccountName $ memberOf $ userAccountControl ) )

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcRequires: authc

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: ${LDAP_BASE}
olcRootDN: cn=admin,${LDAP_BASE}
olcDbDirectory: ${dir}/data
olcDbMaxSize: 16777216
olcDbIndex: objectClass eq
olcDbIndex: employeeID eq
olcAccess: {0}to attrs=userPassword by anonymous auth by * none
olcAccess: {1}to * by users read by * none
`
}

function dataLdif(users: DirectoryUser[]): string {
  const groups = [...new Set(users.flatMap((u) => u.groups))]
  const groupDn = (g: string) => `cn=${g.replace(/([,+"\\<>;=])/g, '\\$1')},ou=Groupes,${LDAP_BASE}`
  const userDn = (u: DirectoryUser) => `cn=${u.cn ?? u.login},ou=Utilisateurs,${LDAP_BASE}`
  const parts = [
    `dn: ${LDAP_BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: hopital\no: CHU de test`,
    `dn: ou=Services,${LDAP_BASE}\nobjectClass: organizationalUnit\nou: Services`,
    `dn: ou=Utilisateurs,${LDAP_BASE}\nobjectClass: organizationalUnit\nou: Utilisateurs`,
    `dn: ou=Groupes,${LDAP_BASE}\nobjectClass: organizationalUnit\nou: Groupes`,
    `dn: ${LDAP_BIND_DN}\nobjectClass: person\nobjectClass: simpleSecurityObject\ncn: svc-psc\nsn: service\nuserPassword: ${LDAP_BIND_PASSWORD}`,
    ...users.map((u) =>
      [
        `dn: ${userDn(u)}`,
        'objectClass: user',
        `cn: ${u.cn ?? u.login}`,
        `sn: ${u.login}`,
        `displayName:: ${Buffer.from(u.displayName, 'utf8').toString('base64')}`,
        `sAMAccountName: ${u.login}`,
        `employeeID: ${u.rpps}`,
        ...(u.userAccountControl !== undefined ? [`userAccountControl: ${u.userAccountControl}`] : []),
        ...u.groups.map((g) => `memberOf: ${groupDn(g)}`),
      ].join('\n'),
    ),
    ...groups.map((g) =>
      [
        `dn: ${groupDn(g)}`,
        'objectClass: groupOfNames',
        `cn: ${g}`,
        ...users.filter((u) => u.groups.includes(g)).map((u) => `member: ${userDn(u)}`),
      ].join('\n'),
    ),
  ]
  return `${parts.join('\n\n')}\n`
}

export async function startSlapd(users: DirectoryUser[]): Promise<Slapd> {
  const dir = mkdtempSync(join(tmpdir(), 'psc-slapd-'))
  mkdirSync(join(dir, 'slapd.d'))
  mkdirSync(join(dir, 'data'))
  const ca = makeCa(dir, 'ca')
  const other = makeCa(dir, 'other')
  const server = makeServerCert(dir, ca)
  writeFileSync(join(dir, 'config.ldif'), configLdif(dir, { cert: server.cert, key: server.key, ca: ca.cert }))
  writeFileSync(join(dir, 'data.ldif'), dataLdif(users))
  execFileSync(SLAPADD, ['-n', '0', '-F', join(dir, 'slapd.d'), '-l', join(dir, 'config.ldif')], { stdio: 'pipe' })
  execFileSync(SLAPADD, ['-n', '1', '-F', join(dir, 'slapd.d'), '-l', join(dir, 'data.ldif')], { stdio: 'pipe' })
  const [ldapPort, ldapsPort] = [await freePort(), await freePort()]
  let child: ChildProcess | undefined
  const slapd: Slapd = {
    ldapUrl: `ldap://127.0.0.1:${ldapPort}`,
    ldapsUrl: `ldaps://127.0.0.1:${ldapsPort}`,
    caFile: ca.cert,
    otherCaFile: other.cert,
    pid: () => child?.pid,
    async start() {
      if (child !== undefined && child.exitCode === null && child.signalCode === null) return
      child = spawn(
        SLAPD,
        ['-d', '0', '-F', join(dir, 'slapd.d'), '-h', `ldap://127.0.0.1:${ldapPort}/ ldaps://127.0.0.1:${ldapsPort}/`],
        { stdio: 'ignore' },
      )
      const failed = new Promise<never>((_, reject) => {
        child!.once('error', (err) =>
          reject(new Error(`cannot start ${SLAPD} (apt-get install slapd): ${err.message}`)),
        )
        child!.once('exit', (code) => reject(new Error(`slapd exited with ${String(code)} at start`)))
      })
      await Promise.race([
        Promise.all([waitForPort(ldapPort, 10_000, 'slapd'), waitForPort(ldapsPort, 10_000, 'slapd')]),
        failed,
      ])
      child.removeAllListeners('exit')
    },
    async stop() {
      const c = child
      child = undefined
      if (!c || c.exitCode !== null || c.signalCode !== null) return
      c.kill('SIGCONT')
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve())
        c.kill('SIGTERM')
      })
    },
    async freeze() {
      const pid = child?.pid
      if (pid === undefined) throw new Error('slapd is not running')
      process.kill(pid, 'SIGSTOP')
      // SIGSTOP reaches each thread in turn: on a busy machine one may still answer for a moment
      for (let i = 0; i < 200; i++) {
        const states = readdirSync(`/proc/${pid}/task`).map(
          (tid) => readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').replace(/^.*\) /, '')[0],
        )
        if (states.every((s) => s === 'T' || s === 't')) return
        await new Promise((r) => setTimeout(r, 10))
      }
    },
    thaw() {
      const pid = child?.pid
      if (pid !== undefined) process.kill(pid, 'SIGCONT')
    },
    async crash() {
      const c = child
      child = undefined
      if (!c || c.exitCode !== null || c.signalCode !== null) return
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve())
        c.kill('SIGKILL')
      })
    },
    async close() {
      await slapd.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
  await slapd.start()
  return slapd
}
