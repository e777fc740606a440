// CIBA meeting other features, over real HTTP: the identity a push login brings is judged by the
// same structure rules as a card login (the exercice in context), and the back-channel calls go
// through the hospital's outbound proxy (a real tinyproxy) like every other call to PSC.
import t from 'tap'
import type { AuditEvent } from '../../src/audit/events.js'
import { loadConfigText } from '../../src/config/load.js'
import { startDemoApp } from '../../dev/demo/app.js'
import { startEmulator } from '../../dev/emulator/index.js'
import { buildGateway } from '../../src/gateway.js'
import type { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { answerOnPhone, CIBA_YAML, startCiba, waitForEnd } from '../helpers/ciba.js'
import {
  CLIENT_SECRET,
  SERVICE_NAME,
  SESSION_SECRET,
  emulatorClientFor,
  freePort,
  startStack,
  type Stack,
} from '../helpers/stack.js'
import { startTinyproxy } from '../helpers/tinyproxy.js'

const TWO_HOSPITALS = '899700600006' // 10 at FINESS 690000001 first, 60 at FINESS 750000001 (the CHU) second
const MEDECIN = '899700218896'
const PHARMACIEN = '899700367915' // one exercice, in a pharmacy, not at the CHU

async function headersOf(
  client: BrowserLikeClient,
  url: string,
): Promise<{ status: number; headers: Record<string, string | undefined> }> {
  const res = await client.get(`${url}?format=json`)
  if (res.status !== 200) return { status: res.status, headers: {} }
  return { status: 200, headers: (JSON.parse(res.body) as { headers: Record<string, string | undefined> }).headers }
}

t.test(
  'a practitioner logged in by CIBA reaches a structures: route through the CHU exercice, and the headers describe that exercice',
  async (t) => {
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const upstream = await startDemoApp(0)
    t.teardown(() => upstream.close())
    const emulator = await startEmulator({
      port: 0,
      clients: [{ ...emulatorClientFor(port), serviceName: SERVICE_NAME }],
      ciba: { intervalSeconds: 1 },
    })
    t.teardown(() => emulator.close())
    const yaml = `
listen: { host: 127.0.0.1, port: ${port} }
publicUrl: ${url}
admin: { enabled: false }
psc:
  environment: custom
  issuer: "${emulator.issuer}"
  clientId: ${emulatorClientFor(port).clientId}
  clientSecret: "\${TEST_CLIENT_SECRET}"
  allowInsecureHttp: true
${CIBA_YAML()}session: { secrets: ["${SESSION_SECRET}"] }
upstreams: { app: { url: "${upstream.url}" } }
headers:
  identity:
    X-PSC-IdNat: idNat
    X-PSC-Profession-Code: professionCode
    X-PSC-Structure-Finess: structureFiness
    X-PSC-Auth-Mode: authMode
structures:
  chu: { label: "Centre Hospitalier de Saint-Œuf", finess: ["750000001"] }
routes:
  - { name: chu, match: { pathPrefix: /chu }, upstream: app, access: { structures: [chu] } }
  - { name: medecins, match: { pathPrefix: /medecins }, upstream: app, access: { professions: ["10"] } }
  - { name: app, upstream: app, access: authenticated }
`
    const audit: AuditEvent[] = []
    const { config } = loadConfigText(yaml, 'pairs-ciba.yaml', { TEST_CLIENT_SECRET: CLIENT_SECRET })
    const gateway = await buildGateway(config, {
      audit: { write: (e) => void audit.push(JSON.parse(JSON.stringify(e)) as AuditEvent) },
      logStream: { write() {} } as never,
    })
    t.teardown(() => gateway.close())
    await gateway.psc.start()
    await gateway.listen()
    const stack = { url, emulator } as Stack

    const { res, browser } = await startCiba(stack, '99700600006', '/chu/dossier/42')
    t.equal(res.status, 303, 'the push is sent')
    await answerOnPhone(stack, TWO_HOSPITALS, true)
    const landed = await waitForEnd(stack, browser)
    t.equal(landed.status, 303)
    t.equal(landed.headers.location, '/chu/dossier/42', 'back to the structures: route first asked for')
    t.ok(
      audit.find(
        (e) =>
          e.event === 'login' && e.outcome === 'succeeded' && e.loginMethod === 'ciba' && e.idNat === TWO_HOSPITALS,
      ),
      'a CIBA login',
    )

    const chu = await headersOf(browser, `${url}/chu/dossier/42`)
    t.equal(chu.status, 200, 'the CIBA identity satisfies the structures: rule')
    t.equal(chu.headers['x-psc-idnat'], TWO_HOSPITALS)
    t.equal(chu.headers['x-psc-profession-code'], '60', 'the CHU exercice (the second), not the first')
    t.equal(chu.headers['x-psc-structure-finess'], '750000001')
    t.equal(chu.headers['x-psc-auth-mode'], 'MOBILE', 'still the CIBA session')
    const access = audit.filter((e) => e.event === 'access' && (e as { route?: string }).route === 'chu').at(-1) as
      | Record<string, unknown>
      | undefined
    t.match(
      access,
      { decision: 'allow', idNat: TWO_HOSPITALS, profession: '60', exercice: 1, structure: '750000001' },
      'the audit names the exercice used',
    )
    const doctors = await headersOf(browser, `${url}/medecins/agenda`)
    t.equal(doctors.headers['x-psc-profession-code'], '10', 'a route for doctors: the first exercice')
    t.equal(doctors.headers['x-psc-structure-finess'], '690000001')

    // A practitioner with no exercice at the CHU, also by CIBA: refused by the same rule.
    const other = await startCiba(stack, '99700367915', '/chu/dossier/42')
    t.equal(other.res.status, 303)
    await answerOnPhone(stack, PHARMACIEN, true)
    const back = await waitForEnd(stack, other.browser)
    t.equal(back.headers.location, '/chu/dossier/42')
    const refused = await other.browser.get(`${url}/chu/dossier/42`)
    t.equal(refused.status, 403, 'no exercice at the CHU: refused, CIBA or not')
    t.match(audit.filter((e) => e.event === 'access' && (e as { route?: string }).route === 'chu').at(-1), {
      decision: 'deny',
      idNat: PHARMACIEN,
    })
  },
)

t.test(
  'CIBA behind the outbound proxy: the back-channel request and its polls go through tinyproxy, and the login works',
  async (t) => {
    const proxy = await startTinyproxy()
    t.teardown(() => proxy.close())
    const port = await freePort()
    const emulator = await startEmulator({
      port: 0,
      clients: [{ ...emulatorClientFor(port), serviceName: SERVICE_NAME }],
      ciba: { intervalSeconds: 1 },
    })
    t.teardown(() => emulator.close())
    const stack = await startStack({
      port,
      emulator,
      pscYaml: `  outboundProxy: { url: "${proxy.url}" }\n${CIBA_YAML()}`,
    })
    t.teardown(() => stack.close())
    const discovery = (await (await fetch(emulator.discoveryUrl)).json()) as {
      backchannel_authentication_endpoint: string
      token_endpoint: string
    }
    const before = proxy.requests().length

    const { res, browser } = await startCiba(stack, '99700218896')
    t.equal(res.status, 303, 'the push is sent')
    t.equal(emulator.ciba.pending(MEDECIN).length, 1, 'PSC received the back-channel request')
    const asked = proxy.requests().slice(before)
    t.ok(
      asked.includes(`POST ${discovery.backchannel_authentication_endpoint} HTTP/1.1`),
      `the back-channel request went through the proxy: ${asked.join(', ')}`,
    )
    await answerOnPhone(stack, MEDECIN, true)
    const landed = await waitForEnd(stack, browser)
    t.equal(landed.status, 303)
    t.equal(landed.headers.location, '/dossier/42?onglet=bio')
    const seen = await headersOf(browser, `${stack.url}/dossier/42`)
    t.equal(seen.status, 200, 'logged in')
    t.equal(seen.headers['x-psc-idnat'], MEDECIN)

    const after = proxy.requests().slice(before)
    t.ok(
      after.filter((r) => r === `POST ${discovery.token_endpoint} HTTP/1.1`).length >= 1,
      'the polls (token endpoint, CIBA grant) through the proxy',
    )
    t.ok(
      after.some((r) => r.startsWith('GET ') && r.includes('/userinfo ')),
      'UserInfo through the proxy',
    )
    t.notOk(
      after.some((r) => r.includes('auth_req_id') || r.includes('login_hint')),
      'no request id or login hint in the proxy log',
    )
  },
)
