// `doctor` checks the hospital's directory like a login would (bind, then one account looked up),
// against a real slapd, one fault at a time: each gets its own diagnosis and advice, in French.
import t from 'tap'
import { loadConfigText } from '../../src/config/load.js'
import type { AccountsSettings, LdapSettings } from '../../src/config/types.js'
import { startEmulator, type RunningEmulator } from '../../dev/emulator/index.js'
import { directoryCheck } from '../../src/ops/doctor-directory.js'
import { formatDoctorReport, runDoctor } from '../../src/ops/doctor.js'
import { CLIENT_ID, CLIENT_SECRET, freePort } from '../helpers/stack.js'
import { LDAP_BASE, LDAP_BIND_DN, LDAP_BIND_PASSWORD, startSlapd, type Slapd } from '../helpers/slapd.js'

const MEDECIN = { rpps: '99700218896', login: 'edubois', displayName: 'Élodie Lefèvre-Dubois', groups: [] }
const TWICE = [
  { rpps: '99700111112', login: 'pmartin', displayName: 'Paul Martin', groups: [] },
  { rpps: '99700111112', login: 'pmartin2', displayName: 'Paul Martin', groups: [] },
]

let slapd: Slapd
t.before(async () => {
  slapd = await startSlapd([MEDECIN, ...TWICE])
})
t.teardown(() => slapd.close())

const accounts = (over: Partial<LdapSettings> = {}): AccountsSettings => ({
  source: 'ldap',
  contact: 'le service informatique',
  refreshEveryMs: 900_000,
  retryEveryMs: 30_000,
  ldap: {
    url: slapd.ldapsUrl,
    startTls: false,
    caFile: slapd.caFile,
    bindDn: LDAP_BIND_DN,
    bindPassword: LDAP_BIND_PASSWORD,
    baseDn: LDAP_BASE,
    filter: '(&(objectClass=user)(employeeID={rpps}))',
    loginAttribute: 'sAMAccountName',
    displayNameAttribute: 'displayName',
    groupsAttribute: 'memberOf',
    nestedGroups: false,
    timeoutMs: 1000,
    poolSize: 1,
    cacheTtlMs: 1000,
    negativeCacheTtlMs: 1000,
    staleLimitMs: 1000,
    cacheMax: 10,
    ...over,
  },
})

t.test('no directory configured: no check', async (t) => {
  t.equal(await directoryCheck(undefined), undefined)
  t.equal(
    await directoryCheck({ source: 'file', file: '/x.csv', contact: 'x', refreshEveryMs: 1, retryEveryMs: 1 }),
    undefined,
  )
})

t.test('bind and one account: any entry the filter matches, or the configured test idNat', async (t) => {
  const any = await directoryCheck(accounts())
  t.match(any, {
    name: 'directory',
    verdict: 'ok',
    detail: /authentifié comme cn=svc-psc.*une entrée trouvée \(\(&\(objectClass=user\)\(employeeID=\*\)\): /,
  })
  const known = await directoryCheck(accounts({ testIdNat: '899700218896' }))
  t.match(known, { verdict: 'ok', detail: /compte de test 899700218896 trouvée .*employeeID=99700218896.*edubois/ })
  t.match(await directoryCheck(accounts({ testIdNat: '899700218896' }), 'en'), {
    verdict: 'ok',
    detail: /bound as .*test account 899700218896 found/,
  })
})

t.test(
  'each fault told apart: bind refused, unreachable, no answer, nobody found, several entries, certificate',
  async (t) => {
    const bind = await directoryCheck(accounts({ bindPassword: 'not-the-password' }))
    t.match(bind, {
      verdict: 'fail',
      detail: /^authentification refusée \(bind\) : .*InvalidCredentials/,
      todo: /bindDn et son mot de passe/,
    })
    t.notMatch(JSON.stringify(bind), /not-the-password|svc-psc-test-password/, 'no password in the report')

    const port = await freePort()
    t.match(await directoryCheck(accounts({ url: `ldaps://127.0.0.1:${port}` })), {
      verdict: 'fail',
      detail: /^annuaire injoignable : .*ECONNREFUSED/,
      todo: /pare-feu/,
    })

    t.match(await directoryCheck(accounts({ testIdNat: '899700999999' })), {
      verdict: 'fail',
      detail: /^aucun compte trouvé : .*employeeID=99700999999/,
      todo: /testIdNat/,
    })
    t.match(
      await directoryCheck(accounts({ filter: '(&(objectClass=user)(carLicense={rpps}))' })),
      { verdict: 'fail', detail: /^aucun compte trouvé/ },
      'a filter on an attribute nobody has',
    )
    t.match(await directoryCheck(accounts({ testIdNat: '899700111112' })), {
      verdict: 'fail',
      detail: /^compte en double : .*cn=pmartin,.*cn=pmartin2,/,
    })
    t.match(await directoryCheck(accounts({ caFile: slapd.otherCaFile })), {
      verdict: 'fail',
      detail: /^certificat de l'annuaire refusé/,
      todo: /caFile/,
    })

    await slapd.freeze()
    t.teardown(() => slapd.thaw())
    const started = Date.now()
    const silent = await directoryCheck(accounts())
    t.match(silent, {
      verdict: 'fail',
      detail: /^l'annuaire ne répond pas dans le délai \(1000 ms\)/,
      todo: /accounts\.ldap\.timeout/,
    })
    t.ok(Date.now() - started < 2500, 'bounded by the timeout')
    slapd.thaw()
  },
)

t.test('psc-gateway doctor: a wrong bind password is a failure of the report, not "no failure"', async (t) => {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const emulator: RunningEmulator = await startEmulator({
    port: 0,
    clients: [
      {
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUris: [`${url}/_psc/callback`],
        postLogoutRedirectUris: [`${url}/_psc/logged-out`],
      },
    ],
  })
  t.teardown(() => emulator.close())
  const yaml = (password: string) => `
listen: { host: 127.0.0.1, port: ${port} }
publicUrl: ${url}
psc: { environment: custom, issuer: "${emulator.issuer}", clientId: ${CLIENT_ID}, clientSecret: "${CLIENT_SECRET}", allowInsecureHttp: true }
session: { secrets: ["0123456789abcdef0123456789abcdef"] }
upstreams: { app: { url: "http://127.0.0.1:9" } }
accounts:
  source: ldap
  ldap: { url: "${slapd.ldapsUrl}", caFile: "${slapd.caFile}", bindDn: "${LDAP_BIND_DN}", bindPassword: "${password}", baseDn: "${LDAP_BASE}", timeout: 2s }
routes:
  - { name: app, upstream: app, access: authenticated }
`
  const doctor = async (password: string) => {
    const { config, warnings } = loadConfigText(yaml(password), 'doctor-directory.yaml', {})
    return runDoctor(config, warnings, { env: {}, timeoutMs: 3000 })
  }
  const wrong = await doctor('wrong-password')
  const line = wrong.checks.find((c) => c.name === 'directory')
  t.match(line, { verdict: 'fail', detail: /authentification refusée/ })
  t.equal(wrong.ok, false)
  t.notMatch(formatDoctorReport(wrong), /no failure/)
  const right = await doctor(LDAP_BIND_PASSWORD)
  t.match(
    right.checks.find((c) => c.name === 'directory'),
    { verdict: 'ok' },
  )
})
