// The exercice in context, end to end over real HTTP (gateway ⇄ PSC emulator ⇄ demo upstream): a
// practitioner who is médecin at another hospital (first exercice) and infirmier at the CHU (second)
// enters a CHU route through the second exercice; the upstream's identity headers, the signed
// assertion, a forward-auth answer and the audit line all describe that one, never the first.
import { createLocalJWKSet, jwtVerify } from 'jose'
import t from 'tap'
import type { AuditEvent } from '../../src/audit/events.js'
import { loadConfigText } from '../../src/config/load.js'
import { startDemoApp, type RunningDemoApp } from '../../dev/demo/app.js'
import { startEmulator, type RunningEmulator } from '../../dev/emulator/index.js'
import { buildGateway, type Gateway } from '../../src/gateway.js'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { CLIENT_ID, CLIENT_SECRET, SESSION_SECRET, freePort } from '../helpers/stack.js'

const TWO_HOSPITALS = '899700600006' // 10 at FINESS 690000001 first, 60 at FINESS 750000001 (the CHU) second
const AUDIENCE = 'dpi'

interface Echo {
  headers: Record<string, string | undefined>
}

let emulator: RunningEmulator
let upstream: RunningDemoApp
let gateway: Gateway
let url: string
let client: BrowserLikeClient
let yaml: string
const audit: AuditEvent[] = []

t.before(async () => {
  const port = await freePort()
  url = `http://127.0.0.1:${port}`
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
  yaml = `
listen: { host: 127.0.0.1, port: ${port} }
publicUrl: ${url}
trustedProxies: [127.0.0.1]
admin: { enabled: false }
psc: { environment: custom, issuer: "${emulator.issuer}", clientId: ${CLIENT_ID}, clientSecret: "\${TEST_CLIENT_SECRET}", allowInsecureHttp: true }
session: { secrets: ["${SESSION_SECRET}"] }
upstreams: { app: { url: "${upstream.url}", assertion: { audience: ${AUDIENCE}, ttl: 60s } } }
headers:
  identity:
    X-PSC-IdNat: idNat
    X-PSC-Profession-Code: professionCode
    X-PSC-Category: category
    X-PSC-Specialty: specialty
    X-PSC-Structure-Finess: structureFiness
    X-PSC-Structure-Name: structureName
    X-PSC-Profession-Codes: professionCodes
structures:
  chu: { label: "Centre Hospitalier de Saint-Œuf", finess: ["750000001"] }
routes:
  - { name: chu, match: { pathPrefix: /chu }, upstream: app, access: { structures: [chu] } }
  - { name: medecins, match: { pathPrefix: /medecins }, upstream: app, access: { professions: ["10"] } }
  - { name: app, upstream: app, access: authenticated }
`
  const { config } = loadConfigText(yaml, 'identity-in-context.yaml', { TEST_CLIENT_SECRET: CLIENT_SECRET })
  gateway = await buildGateway(config, {
    audit: { write: (e) => void audit.push(JSON.parse(JSON.stringify(e)) as AuditEvent) },
    logStream: { write() {} } as never,
  })
  await gateway.psc.start()
  await gateway.listen()
  client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${url}/`, TWO_HOSPITALS)
})
t.teardown(async () => {
  await gateway?.close()
  await upstream?.close()
  await emulator?.close()
})

async function echo(path: string): Promise<Echo> {
  const res = await client.get(`${url}${path}?format=json`)
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.body.slice(0, 300)}`)
  return JSON.parse(res.body) as Echo
}
async function assertionClaims(token: string | undefined): Promise<Record<string, unknown>> {
  const jwks = (await (await fetch(`${url}/_psc/jwks.json`)).json()) as Parameters<typeof createLocalJWKSet>[0]
  return (await jwtVerify(token ?? '', createLocalJWKSet(jwks), { audience: AUDIENCE })).payload
}
const lastAccess = (route: string) =>
  audit.filter((e) => e.event === 'access' && (e as { route?: string }).route === route).at(-1) as
    | Record<string, unknown>
    | undefined

t.test(
  'a CHU route entered through the second exercice: the upstream is told infirmier (60) at FINESS 750000001',
  async (t) => {
    const seen = await echo('/chu/dossier/42')
    t.equal(seen.headers['x-psc-idnat'], TWO_HOSPITALS)
    t.equal(seen.headers['x-psc-profession-code'], '60', 'the exercice that satisfied the route, not the first (10)')
    t.equal(seen.headers['x-psc-category'], 'M')
    t.equal(
      seen.headers['x-psc-specialty'],
      undefined,
      "the first exercice's specialty does not leak into the second's",
    )
    t.equal(seen.headers['x-psc-structure-finess'], '750000001')
    t.equal(seen.headers['x-psc-structure-name'], 'Centre Hospitalier de Saint-%C5%92uf')
    t.equal(seen.headers['x-psc-profession-codes'], '10,60', 'the list of every profession stays whole')
    const claims = await assertionClaims(seen.headers['x-psc-assertion'])
    t.match(
      claims,
      { idNat: TWO_HOSPITALS, professionCode: '60', structureFiness: '750000001', category: 'M' },
      'the signed assertion says the same',
    )
    t.notOk('specialty' in claims)
    t.match(
      lastAccess('chu'),
      { decision: 'allow', idNat: TWO_HOSPITALS, profession: '60', exercice: 1, structure: '750000001' },
      'the audit line names the exercice used',
    )
  },
)

t.test(
  'the same session on a route for doctors: the first exercice, at the other hospital; no stale cached headers',
  async (t) => {
    const doctors = await echo('/medecins/agenda')
    t.equal(doctors.headers['x-psc-profession-code'], '10')
    t.equal(doctors.headers['x-psc-structure-finess'], '690000001')
    t.equal(doctors.headers['x-psc-specialty'], 'SM26')
    const claims = await assertionClaims(doctors.headers['x-psc-assertion'])
    t.match(
      claims,
      { professionCode: '10', structureFiness: '690000001' },
      'the assertion is not the one cached for the CHU route',
    )
    t.match(lastAccess('medecins'), { profession: '10', exercice: 0, structure: '690000001' })
    const again = await echo('/chu/dossier/43')
    t.equal(again.headers['x-psc-profession-code'], '60', 'back on the CHU route: the CHU exercice again')
    t.match(await assertionClaims(again.headers['x-psc-assertion']), { professionCode: '60' })
  },
)

t.test('a route with no exercice condition: the exercice at one of the configured establishments', async (t) => {
  const seen = await echo('/anything')
  t.equal(seen.headers['x-psc-profession-code'], '60')
  t.equal(seen.headers['x-psc-structure-finess'], '750000001')
  t.match(lastAccess('app'), { profession: '60', exercice: 1, structure: '750000001' })
})

t.test('forward-auth answers describe the same exercice', async (t) => {
  const answer = await client.get(`${url}/_psc/auth`, {
    headers: { 'X-Original-URI': '/chu/dossier/42', 'X-Original-Method': 'GET' },
  })
  t.equal(answer.status, 200)
  t.equal(answer.headers['x-psc-profession-code'], '60')
  t.equal(answer.headers['x-psc-structure-finess'], '750000001')
  t.match(await assertionClaims(answer.headers['x-psc-assertion'] as string | undefined), { professionCode: '60' })
  const doctors = await client.get(`${url}/_psc/auth`, {
    headers: { 'X-Original-URI': '/medecins/agenda', 'X-Original-Method': 'GET' },
  })
  t.equal(doctors.headers['x-psc-profession-code'], '10')
})

t.test(
  "hot reload: the hospital's establishments change, and so does the exercice described, with no stale cached headers",
  async (t) => {
    t.equal((await echo('/anything')).headers['x-psc-profession-code'], '60', 'before: the CHU exercice')
    // The hospital is now the other one: an authenticated route describes the exercice practised there.
    const next = yaml.replace(
      'chu: { label: "Centre Hospitalier de Saint-Œuf", finess: ["750000001"] }',
      'chu: { label: "Hôpital de Lyon", finess: ["690000001"] }',
    )
    gateway.reload(loadConfigText(next, 'identity-in-context.yaml', { TEST_CLIENT_SECRET: CLIENT_SECRET }).config)
    const seen = await echo('/anything')
    t.equal(seen.headers['x-psc-profession-code'], '10')
    t.equal(seen.headers['x-psc-structure-finess'], '690000001')
    t.match(await assertionClaims(seen.headers['x-psc-assertion']), {
      professionCode: '10',
      structureFiness: '690000001',
    })
    t.equal(
      (await echo('/chu/x')).headers['x-psc-profession-code'],
      '10',
      'the route on the (renamed) set follows it too',
    )
    t.match(lastAccess('app'), { profession: '10', exercice: 0, structure: '690000001' })
  },
)
