// Local accounts end to end, over real HTTP: gateway ⇄ PSC emulator ⇄ demo upstream, with a real
// OpenLDAP shaped like an Active Directory (LDAPS, test CA). The practitioner's login and groups
// reach the upstream; a practitioner without an account gets the French page; with the directory
// stopped, cached answers serve, new ones get the 503 page, and it recovers by itself.
import t from 'tap'
import type { AuditEvent } from '../../src/audit/events.js'
import { loadConfigText } from '../../src/config/load.js'
import { startDemoApp, type RunningDemoApp } from '../../dev/demo/app.js'
import { startEmulator, type RunningEmulator } from '../../dev/emulator/index.js'
import { buildGateway, type Gateway } from '../../src/gateway.js'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { CLIENT_ID, CLIENT_SECRET, SESSION_SECRET, freePort } from '../helpers/stack.js'
import { LDAP_BASE, LDAP_BIND_DN, LDAP_BIND_PASSWORD, startSlapd, type Slapd } from '../helpers/slapd.js'

const MEDECIN = '899700218896' // médecin at the CHU (FINESS 750000001): in the directory, DPI admin
const PHARMACIEN = '899700367915' // in the directory, not a DPI admin
const ZOE = '899700412345' // médecin at the CHU: in the directory, first logs in while it is down
const INFIRMIER = '0012345678' // ADELI, no RPPS: no account
const ETUDIANT = '899700555555' // médecin étudiant, no structure: two directory entries (an account created twice)
const PSY = '899700999993' // in the directory, the account disabled (userAccountControl 514)

// A slapd with its own CA, an emulator, a gateway, then seven tests with real timeouts (frozen and
// stopped directory): about 50 s of tests after up to a minute of start-up on a loaded 2-core
// machine, past tap's 120 s per file.
t.setTimeout(300_000)

interface Echo {
  headers: Record<string, string | undefined>
}

let slapd: Slapd
let emulator: RunningEmulator
let upstream: RunningDemoApp
let gateway: Gateway
let url: string
let adminUrl: string
const audit: AuditEvent[] = []

t.before(async () => {
  slapd = await startSlapd([
    {
      rpps: MEDECIN.slice(1),
      login: 'edubois',
      displayName: 'Élodie Lefèvre-Dubois',
      groups: ['DPI-Medecins', 'DPI-Admins'],
    },
    {
      rpps: PHARMACIEN.slice(1),
      login: 'jfaubigne',
      displayName: "Jean-François D'Aubigné",
      groups: ['Pharmacie', 'Pharmacie, Garde de nuit'],
    },
    { rpps: ZOE.slice(1), login: 'zmoeller', displayName: 'Zoé Mœller', groups: ['DPI-Medecins'] },
    { rpps: ETUDIANT.slice(1), login: 'etudiant', displayName: 'Étudiant', groups: [] },
    { rpps: ETUDIANT.slice(1), login: 'etudiant2', displayName: 'Étudiant', groups: [] },
    { rpps: PSY.slice(1), login: 'psy', displayName: 'Psy Hébert', groups: ['DPI-Admins'], userAccountControl: 514 },
  ])
  const port = await freePort()
  const adminPort = await freePort()
  url = `http://127.0.0.1:${port}`
  adminUrl = `http://127.0.0.1:${adminPort}`
  upstream = await startDemoApp(0)
  emulator = await startEmulator({
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
  const yaml = gatewayYaml(port, adminPort)
  // dpi-admin comes after dpi in the file but /dpi-admin is not under /dpi (whole segments)
  const { config } = loadConfigText(yaml, 'accounts-test.yaml', {
    TEST_CLIENT_SECRET: CLIENT_SECRET,
    LDAP_BIND_PASSWORD,
  })
  gateway = await buildGateway(config, {
    audit: { write: (e) => void audit.push(JSON.parse(JSON.stringify(e)) as AuditEvent) },
    logStream: { write() {} } as never,
  })
  await gateway.psc.start()
  await gateway.listen()
})
/** The gateway's configuration (two gateways can share the directory and the emulator). */
function gatewayYaml(port: number, adminPort: number): string {
  const url = `http://127.0.0.1:${port}`
  return `
listen: { host: 127.0.0.1, port: ${port} }
publicUrl: ${url}
admin: { enabled: true, host: 127.0.0.1, port: ${adminPort} }
psc: { environment: custom, issuer: "${emulator.issuer}", clientId: ${CLIENT_ID}, clientSecret: "\${TEST_CLIENT_SECRET}", allowInsecureHttp: true }
session: { secrets: ["${SESSION_SECRET}"] }
upstreams: { app: { url: "${upstream.url}" } }
headers:
  identity: { X-Remote-User: accountLogin, X-Remote-Groups: accountGroups, X-Remote-Name: accountName }
structures:
  chu: { label: "Centre Hospitalier de Saint-Œuf", finess: ["750000001"] }
accounts:
  source: ldap
  contact: "le secrétariat du DPI (poste 4321)"
  retryEvery: 1s
  ldap:
    url: ${slapd.ldapsUrl}
    caFile: ${slapd.caFile}
    bindDn: "${LDAP_BIND_DN}"
    bindPassword: \${LDAP_BIND_PASSWORD}
    baseDn: "${LDAP_BASE}"
    filter: "(&(objectClass=user)(employeeID={rpps}))"
    timeout: 2s
    cacheTtl: 1s
    negativeCacheTtl: 1s
    staleLimit: 1h
routes:
  - { name: dpi, match: { pathPrefix: /dpi }, upstream: app, access: { professions: ["10"], structures: [chu], account: required } }
  - { name: dpi-admin, match: { pathPrefix: /dpi-admin }, upstream: app, access: { groups: [dpi-admins] } }
  - { name: compte, match: { pathPrefix: /compte }, upstream: app, access: { account: required } }
  - { name: app, upstream: app, access: authenticated }
`
}

t.teardown(async () => {
  await gateway?.close()
  await upstream?.close()
  await emulator?.close()
  await slapd?.close()
})

async function loggedIn(idNat: string): Promise<BrowserLikeClient> {
  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${url}/`, idNat)
  return client
}
async function echo(client: BrowserLikeClient, path: string, headers: Record<string, string> = {}): Promise<Echo> {
  const res = await client.get(`${url}${path}?format=json`, { headers })
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.body.slice(0, 300)}`)
  return JSON.parse(res.body) as Echo
}
const loginEvent = (idNat: string) =>
  audit.filter((e) => e.event === 'login' && e.outcome === 'succeeded' && e.idNat === idNat).at(-1) as
    | { account?: string }
    | undefined
interface Readyz {
  httpStatus: number
  status: string
  degraded?: string[]
  checks: Record<string, { ok: boolean; reason?: string; reportOnly?: boolean }>
}
const readyz = async (): Promise<Readyz> => {
  const res = await fetch(`${adminUrl}/readyz`)
  return { httpStatus: res.status, ...((await res.json()) as Omit<Readyz, 'httpStatus'>) }
}
/** psc_gateway_readiness_check_ok{check} as Prometheus scrapes it from the admin port */
const readinessMetric = async (check: string) =>
  new RegExp(`^psc_gateway_readiness_check_ok\\{check="${check}"\\} (\\d)$`, 'm').exec(
    await (await fetch(`${adminUrl}/metrics`)).text(),
  )?.[1]

t.test('a practitioner in the directory: login, name and groups upstream; client copies stripped', async (t) => {
  const client = await loggedIn(MEDECIN)
  const seen = await echo(client, '/dpi/patient/42', { 'X-Remote-User': 'admin', X_Remote_Groups: 'DPI-Admins' })
  t.equal(seen.headers['x-remote-user'], 'edubois')
  t.equal(seen.headers['x-remote-groups'], 'DPI-Medecins,DPI-Admins')
  t.equal(seen.headers['x-remote-name'], '%C3%89lodie Lef%C3%A8vre-Dubois')
  t.equal(seen.headers.x_remote_groups, undefined, 'the underscore spelling of a gateway header is removed')
  t.equal(seen.headers['x-psc-idnat'], MEDECIN, 'PSC identity headers still travel')
  t.equal(
    (await client.get(`${url}/dpi-admin/`)).status,
    200,
    'groups compare case-insensitively (dpi-admins / DPI-Admins)',
  )
  t.equal(loginEvent(MEDECIN)?.account, 'edubois', 'the login event records the account found')
  const pharmacien = await loggedIn(PHARMACIEN)
  const refused = await pharmacien.get(`${url}/dpi-admin/`, { headers: { 'accept-language': 'fr' } })
  t.equal(refused.status, 403)
  t.match(refused.body, /ne fait pas partie des groupes autorisés/)
  t.match(refused.body, /contactez le secrétariat du DPI \(poste 4321\)/, 'the group refusal names accounts.contact')
  t.notMatch(refused.body, /support informatique/, 'not the default contact')
  const access = audit.filter((e) => e.event === 'access' && e.idNat === PHARMACIEN).at(-1) as {
    reason?: string
    route?: string
  }
  t.match(access, { reason: 'PSC_ERR_DENIED_GROUP', route: 'dpi-admin' }, 'the deny code names the rule')
  t.equal(
    (await echo(pharmacien, '/app')).headers['x-remote-groups'],
    'Pharmacie,Pharmacie%2C Garde de nuit',
    'a comma inside a group name is encoded, the list stays unambiguous',
  )
})

t.test(
  'no account: the French page with the contact on routes that need one; forwarded without it elsewhere',
  async (t) => {
    const client = await loggedIn(INFIRMIER)
    t.equal(loginEvent(INFIRMIER)?.account, 'none', 'the login event records that none was found')
    const page = await client.get(`${url}/compte/`, { headers: { 'accept-language': 'fr-FR,fr;q=0.9' } })
    t.equal(page.status, 403)
    t.match(
      page.body,
      /Votre compte n&#39;est pas encore ouvert dans cette application : contactez le secrétariat du DPI \(poste 4321\)|Votre compte n'est pas encore ouvert dans cette application : contactez le secrétariat du DPI \(poste 4321\)/,
    )
    t.notMatch(page.body, /ldap|employeeID|PSC_ERR_DENIED_NO_ACCOUNT\b.*stack/i, 'no technical detail on the page')
    const english = await client.get(`${url}/compte/`, { headers: { 'accept-language': 'en' } })
    t.match(english.body, /Your account in this application is not open yet/)
    const seen = await echo(client, '/app', { 'X-Remote-User': 'admin' })
    t.equal(seen.headers['x-remote-user'], undefined, 'a client-sent X-Remote-User never reaches the upstream')
    const etudiant = await loggedIn(ETUDIANT)
    const elsewhere = await etudiant.get(`${url}/dpi/`, { headers: { 'accept-language': 'fr' } })
    t.equal(elsewhere.status, 403)
    t.match(
      elsewhere.body,
      /Cette page est réservée aux professionnels exerçant dans l(&#39;|')établissement : Centre Hospitalier de Saint-Œuf\./,
    )
  },
)

t.test(
  'directory stopped: cached answers serve, new ones get 503, readyz (still ready) and the metrics say so; it recovers by itself',
  async (t) => {
    await slapd.stop()
    t.teardown(() => slapd.start())
    await new Promise((r) => setTimeout(r, 1100)) // past cacheTtl: only the stale limit keeps MEDECIN's answer
    const medecin = await loggedIn(MEDECIN)
    t.equal(
      (await echo(medecin, '/dpi/')).headers['x-remote-user'],
      'edubois',
      'a new login of a practitioner already looked up is served from the cache',
    )
    const started = Date.now()
    const zoe = await loggedIn(ZOE)
    t.ok(Date.now() - started < 5000, 'the login did not hang on the directory')
    t.equal(loginEvent(ZOE)?.account, 'unavailable')
    const down = await zoe.get(`${url}/dpi/`, { headers: { 'accept-language': 'fr' } })
    t.equal(down.status, 503)
    t.match(down.body, /Annuaire de l(&#39;|')établissement indisponible/)
    t.equal(
      (await echo(zoe, '/app')).headers['x-remote-user'],
      undefined,
      'routes without account rules still work, without account headers',
    )
    // The directory is shared by every replica: its outage is reported, never a reason to take the
    // pod out of the Service (the gateway answers for it: the 503 page above, the other routes served).
    const ready = await readyz()
    t.equal(ready.httpStatus, 200, 'still ready while the directory is down')
    t.equal(ready.status, 'ready')
    t.same(ready.degraded, ['accounts'], 'the body names the degraded check')
    t.equal(ready.checks.accounts?.ok, false)
    t.equal(ready.checks.accounts?.reportOnly, true)
    t.match(ready.checks.accounts?.reason, /not answering since/)
    t.equal(
      await readinessMetric('accounts'),
      '0',
      'psc_gateway_readiness_check_ok{check="accounts"} 0 (the alert reads it)',
    )
    t.match(await gateway.metrics.registry.metrics(), /psc_gateway_account_directory_up\{source="ldap"\} 0/)
    t.match(await gateway.metrics.registry.metrics(), /psc_gateway_account_lookups_total\{outcome="stale"\} [1-9]/)

    await slapd.start()
    await new Promise((r) => setTimeout(r, 1100)) // accounts.retryEvery
    const back = await echo(zoe, '/dpi/')
    t.equal(
      back.headers['x-remote-user'],
      'zmoeller',
      'the same session gets its account once the directory answers, with no new login',
    )
    t.equal(back.headers['x-remote-groups'], 'DPI-Medecins')
    const again = await readyz()
    t.equal(again.checks.accounts?.ok, true)
    t.equal(again.httpStatus, 200)
    t.equal(again.degraded, undefined, 'no longer degraded')
    t.equal(await readinessMetric('accounts'), '1')
    t.match(await gateway.metrics.registry.metrics(), /psc_gateway_account_directory_up\{source="ldap"\} 1/)
  },
)

t.test(
  'two directory entries for one practitioner: the "compte en double" page with the contact, audited, and no outage',
  async (t) => {
    const before = (await readyz()).checks.accounts
    t.equal(before?.ok, true)
    const etudiant = await loggedIn(ETUDIANT)
    t.equal(loginEvent(ETUDIANT)?.account, 'duplicate', 'the login event says why there is no account')
    const page = await etudiant.get(`${url}/compte/`, { headers: { 'accept-language': 'fr' } })
    t.equal(page.status, 403)
    t.match(page.body, /Compte en double/)
    t.match(page.body, /Contactez le secrétariat du DPI \(poste 4321\)/)
    t.notMatch(
      page.body,
      /employeeID|cn=etudiant|indisponible/i,
      "neither the directory's detail nor an outage on the page",
    )
    t.match(audit.filter((e) => e.event === 'access' && e.idNat === ETUDIANT).at(-1), {
      reason: 'PSC_ERR_DENIED_ACCOUNT_DUPLICATE',
      route: 'compte',
    })
    t.equal(
      (await echo(etudiant, '/app')).headers['x-remote-user'],
      undefined,
      'routes without account rules: forwarded without account headers',
    )
    const ready = await readyz()
    t.equal(ready.checks.accounts?.ok, true, 'the directory answered: not marked down')
    t.equal(ready.degraded, undefined)
    t.equal((await (await loggedIn(MEDECIN)).get(`${url}/compte/`)).status, 200, 'the others are served')
  },
)

t.test(
  'an Active Directory account disabled (userAccountControl 514): its own page, never its login or groups upstream',
  async (t) => {
    const psy = await loggedIn(PSY)
    t.equal(loginEvent(PSY)?.account, 'disabled')
    const page = await psy.get(`${url}/dpi-admin/`, { headers: { 'accept-language': 'fr' } })
    t.equal(page.status, 403, 'its groups (DPI-Admins) do not open the route')
    t.match(page.body, /Compte désactivé/)
    t.match(page.body, /Contactez le secrétariat du DPI \(poste 4321\)/)
    const english = await psy.get(`${url}/compte/`, { headers: { 'accept-language': 'en' } })
    t.match(english.body, /Account disabled/)
    t.match(audit.filter((e) => e.event === 'access' && e.idNat === PSY).at(-1), {
      reason: 'PSC_ERR_DENIED_ACCOUNT_DISABLED',
    })
    const seen = await echo(psy, '/app')
    t.equal(seen.headers['x-remote-user'], undefined)
    t.equal(seen.headers['x-remote-groups'], undefined)
  },
)

t.test(
  'a frozen directory never delays a route that needs no account; a route that needs one waits at most the timeout',
  async (t) => {
    // A session whose account is due again: found from the cache while the directory was stopped
    await slapd.stop()
    await new Promise((r) => setTimeout(r, 1100)) // past cacheTtl
    const medecin = await loggedIn(MEDECIN)
    await slapd.start()
    await slapd.freeze()
    t.teardown(() => slapd.thaw())
    await new Promise((r) => setTimeout(r, 1100)) // accounts.retryEvery: the stale account is due
    for (let i = 0; i < 3; i++) {
      const started = Date.now()
      const seen = await echo(medecin, '/app')
      const elapsed = Date.now() - started
      t.ok(
        elapsed < 1500,
        `request ${i + 1} to a route without account rules: ${elapsed} ms (the directory's timeout is 2000 ms)`,
      )
      t.equal(seen.headers['x-remote-user'], 'edubois', 'forwarded with the account the session holds')
    }
    slapd.thaw()
    await new Promise((r) => setTimeout(r, 2100)) // the lookup begun aside ends (timeout) and retryEvery passes
    t.equal(
      (await echo(medecin, '/dpi/')).headers['x-remote-user'],
      'edubois',
      'the account route looks it up (the directory answers again)',
    )
  },
)

t.test(
  'readyz tells the truth from the start: "not contacted yet" until the directory answers, never "answering" on faith',
  async (t) => {
    await slapd.freeze() // the start-up probe gets no answer until the timeout
    t.teardown(() => slapd.thaw())
    const [port, adminPort] = [await freePort(), await freePort()]
    const { config } = loadConfigText(gatewayYaml(port, adminPort), 'accounts-test-2.yaml', {
      TEST_CLIENT_SECRET: CLIENT_SECRET,
      LDAP_BIND_PASSWORD,
    })
    const second = await buildGateway(config, { audit: { write() {} }, logStream: { write() {} } as never })
    t.teardown(() => second.close())
    await second.listen()
    const ready = (await (await fetch(`http://127.0.0.1:${adminPort}/readyz`)).json()) as Readyz
    t.match(ready.checks.accounts, { ok: false, reportOnly: true, reason: /not contacted yet/ })
    t.match(await second.metrics.registry.metrics(), /psc_gateway_account_directory_up\{source="ldap"\} 0/)
    await new Promise((r) => setTimeout(r, 2300)) // the probe's timeout
    t.match(((await (await fetch(`http://127.0.0.1:${adminPort}/readyz`)).json()) as Readyz).checks.accounts, {
      ok: false,
      reason: /not answering since/,
    })
    slapd.thaw()
  },
)
