// Attack class 2: identity header spoofing. The client sends X-PSC-* in every spelling, with "_",
// duplicated, folded; and X-Forwarded-* that only a trusted proxy may set. Raw bytes, so that the
// exact header lines reach the gateway.
import t from 'tap'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { rawGet } from '../helpers/raw-http.js'
import { startStack, type Stack } from '../helpers/stack.js'
import { startTestGateway, type Echo } from './fixture.js'
import type { AuditEvent } from '../../src/audit/event-schema.js'

/** the client address an access line recorded (undefined for another kind of line) */
const clientOf = (e: AuditEvent | undefined) => (e?.event === 'access' ? e.client : undefined)

const MEDECIN = '899700218896'
const PHARMACIEN = '899700367915'

let stack: Stack
t.before(async () => {
  stack = await startStack()
})
t.teardown(() => stack.close())

const SPOOFED = [
  'X-PSC-IdNat: forged-1',
  'x-psc-idnat: forged-2',
  'X-PSC-IDNAT: forged-3',
  'X_PSC_IdNat: forged-4',
  'x_psc_idnat: forged-5',
  'X-Psc_IdNat: forged-6',
  'X-PSC-Profession-Code: forged-7',
  'X-PSC-Whatever-Else: forged-8',
  'X_PSC_RPPS: forged-9',
  'Forwarded: for=6.6.6.6;host=forged.example;proto=https',
  'X-Forwarded-For: 6.6.6.6',
  'X-Forwarded-Host: forged.example',
  'X-Forwarded-Proto: https',
  'X-Forwarded-Uri: /public',
  'X-Original-URL: /admin',
  'X-Rewrite-URL: /admin',
  'X-Real-IP: 6.6.6.6',
  'X-Request-Id: forged-request-id',
]

function forgedIn(echo: Echo): string[] {
  const out: string[] = []
  for (let i = 0; i < echo.rawHeaders.length; i += 2) {
    const line = `${echo.rawHeaders[i]}: ${echo.rawHeaders[i + 1]}`
    if (/forged|6\.6\.6\.6/.test(line)) out.push(line)
  }
  return out
}

t.test('a public route gets the identity namespace stripped too, every spelling, duplicates included', async (t) => {
  const { response } = await rawGet(stack.url, '/public/x?format=json', SPOOFED)
  t.equal(response?.status, 200)
  const echo = JSON.parse(response!.body) as Echo
  t.same(forgedIn(echo), [], 'no client-sent identity or forwarding header reaches the upstream')
  t.notOk(
    echo.rawHeaders.some((h) => /^x[-_]psc/i.test(h)),
    'no X-PSC header at all for an anonymous request',
  )
  t.equal(echo.headers['x-forwarded-for'], '127.0.0.1', 'X-Forwarded-For replaced by the real peer')
  t.equal(echo.headers['x-forwarded-proto'], 'http')
  t.equal(echo.headers['x-forwarded-host'], new URL(stack.url).host)
  t.match(echo.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'the gateway request id, not the client one')
})

t.test('a folded (obs-fold) header line is refused before anything is forwarded', async (t) => {
  let forwarded = 0
  const count = () => {
    forwarded++
  }
  stack.upstream.server.on('request', count)
  t.teardown(() => {
    stack.upstream.server.off('request', count)
  })
  const { response } = await rawGet(stack.url, '/public/x?format=json', [
    'X-Other: a',
    ' X-PSC-IdNat: forged',
    'X-PSC-RPPS: a',
    '\tforged',
  ])
  t.equal(response?.status, 400)
  t.equal(forwarded, 0)
  t.equal((await rawGet(stack.url, '/public/x?format=json')).response?.status, 200, 'the gateway is still up')
})

t.test('a logged-in practitioner cannot claim another identity', async (t) => {
  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${stack.url}/`, PHARMACIEN)
  const cookie = client
    .cookies(stack.url)
    .map((c) => `${c.name}=${c.value}`)
    .join('; ')
  // the admin route is for the médecin's idNat only
  const admin = await rawGet(stack.url, '/admin/x?format=json', [
    `Cookie: ${cookie}`,
    `X-PSC-IdNat: ${MEDECIN}`,
    `X_PSC_IDNAT: ${MEDECIN}`,
  ])
  t.equal(admin.response?.status, 403, 'the decision uses the session, not the headers')
  const { response } = await rawGet(stack.url, '/dossier?format=json', [`Cookie: ${cookie}`, ...SPOOFED])
  const echo = JSON.parse(response!.body) as Echo
  t.same(forgedIn(echo), [])
  t.equal(echo.rawHeaders.filter((h) => h.toLowerCase() === 'x-psc-idnat').length, 1, 'exactly one X-PSC-IdNat')
  t.equal(echo.headers['x-psc-idnat'], PHARMACIEN)
  t.equal(echo.headers['x-psc-profession-code'], '21')
  t.notOk(String(echo.headers.cookie ?? '').includes('psc_session'), 'the session cookie is not forwarded')
})

t.test('X-Forwarded-* are believed from a configured trusted proxy only', async (t) => {
  const routes = `
upstreams: { app: { url: "UPSTREAM" } }
routes: [ { name: all, upstream: app, access: public } ]
`
  const trusting = await startTestGateway(`trustedProxies: [127.0.0.0/8, 10.0.0.0/8]\n${routes}`)
  const partly = await startTestGateway(`trustedProxies: [127.0.0.0/8]\n${routes}`)
  const untrusting = await startTestGateway(`trustedProxies: [10.0.0.0/8]\n${routes}`)
  t.teardown(() => Promise.all([trusting.close(), partly.close(), untrusting.close()]))
  const headers = [
    'X-Forwarded-For: 203.0.113.7, 10.1.2.3',
    'X-Forwarded-Proto: https',
    'X-Forwarded-Host: dpi.hopital.example',
  ]

  const viaTrusted = JSON.parse((await rawGet(trusting.url, '/x', headers)).response!.body) as Echo
  t.equal(viaTrusted.headers['x-forwarded-for'], '203.0.113.7, 10.1.2.3, 127.0.0.1', 'chain kept, the peer appended')
  t.equal(viaTrusted.headers['x-forwarded-proto'], 'https')
  t.equal(viaTrusted.headers['x-forwarded-host'], 'dpi.hopital.example')
  t.equal(
    clientOf(trusting.audit.at(-1)),
    '203.0.113.7',
    'the client address is the first untrusted hop from the right',
  )

  // 10.1.2.3 is not trusted here: what it claims (203.0.113.7) is dropped, it is the client.
  const viaPartly = JSON.parse((await rawGet(partly.url, '/x', headers)).response!.body) as Echo
  t.equal(viaPartly.headers['x-forwarded-for'], '10.1.2.3, 127.0.0.1', 'only hops vouched for by trusted proxies')
  t.equal(clientOf(partly.audit.at(-1)), '10.1.2.3')

  const viaOther = JSON.parse((await rawGet(untrusting.url, '/x', headers)).response!.body) as Echo
  t.equal(viaOther.headers['x-forwarded-for'], '127.0.0.1', 'replaced')
  t.equal(viaOther.headers['x-forwarded-proto'], 'http')
  t.equal(viaOther.headers['x-forwarded-host'], new URL(untrusting.url).host)
  t.equal(clientOf(untrusting.audit.at(-1)), '127.0.0.1')
})

t.test(
  'a shared-secret header configured for the upstream cannot be supplied or overridden by the client',
  async (t) => {
    const gw = await startTestGateway(
      `
upstreams:
  app: { url: "UPSTREAM", headers: { X-Gateway-Secret: "\${GATEWAY_SECRET}" } }
routes: [ { name: all, upstream: app, access: public } ]
`,
      { env: { GATEWAY_SECRET: 'shared-secret-value-7f3a' } },
    )
    t.teardown(() => gw.close())
    const { response } = await rawGet(gw.url, '/x', [
      'X-Gateway-Secret: forged',
      'x_gateway_secret: forged',
      'X-GATEWAY-SECRET: forged',
    ])
    const echo = JSON.parse(response!.body) as Echo
    t.same(forgedIn(echo), [])
    t.equal(echo.headers['x-gateway-secret'], 'shared-secret-value-7f3a', 'the gateway sets the value it was given')
    t.notOk(gw.logs.join('\n').includes('shared-secret-value-7f3a'), 'never logged')
  },
)
