// The signed identity assertion, end to end: an upstream that verifies it with jose against the
// gateway's /_psc/jwks.json serves a request that came through the gateway, and refuses one
// without the token, with an expired token, and with a token made for another upstream.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { generateKeyPairSync } from 'node:crypto'
import { createRemoteJWKSet, importPKCS8, jwtVerify, SignJWT, decodeProtectedHeader } from 'jose'
import t from 'tap'
import { loadConfigText } from '../../src/config/load.js'
import { startEmulator, type RunningEmulator } from '../../dev/emulator/index.js'
import { buildGateway, type Gateway } from '../../src/gateway.js'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { reservePort } from '../helpers/ports.js'
import { CLIENT_ID, CLIENT_SECRET, stackYaml } from '../helpers/stack.js'

const MEDECIN = '899700218896'
const KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()

/** What a hospital's application would do in a few lines: verify, or refuse with the reason. */
async function startVerifyingUpstream(
  jwksUrl: string,
  audience: string,
  issuer: string,
): Promise<{ url: string; server: Server; tokens: string[] }> {
  const jwks = createRemoteJWKSet(new URL(jwksUrl))
  const tokens: string[] = []
  const server = createServer((req, res) => {
    const token = req.headers['x-psc-assertion']
    if (typeof token !== 'string') {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ refused: 'no assertion' }))
      return
    }
    tokens.push(token)
    jwtVerify(token, jwks, { audience, issuer, algorithms: ['EdDSA', 'ES256'], maxTokenAge: '2m' }).then(
      ({ payload }) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ payload })),
      (err: { code?: string }) =>
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ refused: err.code })),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, tokens }
}

let gateway: Gateway
let emulator: RunningEmulator
let base: string
let app: Awaited<ReturnType<typeof startVerifyingUpstream>>
let other: Awaited<ReturnType<typeof startVerifyingUpstream>>
const client = new BrowserLikeClient()

t.before(async () => {
  const reserved = await reservePort()
  const port = reserved.port
  base = `http://127.0.0.1:${port}`
  emulator = await startEmulator({
    port: 0,
    clients: [
      {
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUris: [`${base}/_psc/callback`],
        postLogoutRedirectUris: [`${base}/_psc/logged-out`],
      },
    ],
  })
  app = await startVerifyingUpstream(`${base}/_psc/jwks.json`, 'dpi', base)
  other = await startVerifyingUpstream(`${base}/_psc/jwks.json`, 'labo', base)
  const routesYaml = stackYaml({ port, issuer: emulator.issuer, upstreamUrl: app.url })
    .replace(
      `app: { url: "${app.url}" }`,
      `app: { url: "${app.url}", assertion: { audience: dpi, ttl: 20s } }\n  labo: { url: "${other.url}", assertion: { audience: labo } }`,
    )
    .replace(
      '  - name: application\n',
      '  - name: labo\n    match: { pathPrefix: /labo }\n    upstream: labo\n    access: authenticated\n  - name: application\n',
    )
  const yaml = `${routesYaml}assertion:\n  keys: ["\${ASSERTION_KEY}"]\n`
  const { config } = loadConfigText(yaml, 'assertion.yaml', { TEST_CLIENT_SECRET: CLIENT_SECRET, ASSERTION_KEY: KEY })
  gateway = await buildGateway(config, { audit: { write: () => {} }, logStream: { write: () => true } as never })
  await gateway.psc.start()
  await gateway.listen(reserved)
  await loginThroughEmulator(client, `${base}/`, MEDECIN)
})
t.teardown(async () => {
  await gateway?.close()
  await emulator?.close()
  app?.server.close()
  other?.server.close()
})

t.test('a request through the gateway carries an assertion the upstream verifies', async (t) => {
  const res = await client.get(`${base}/medecins/x`)
  t.equal(res.status, 200, res.body)
  const { payload } = JSON.parse(res.body) as { payload: Record<string, unknown> }
  t.match(payload, {
    iss: base,
    aud: 'dpi',
    idNat: MEDECIN,
    professionCode: '10',
    familyName: String,
    jti: /^[0-9a-f-]{36}$/,
  })
  t.equal((payload.exp as number) - (payload.iat as number), 20)
  t.equal(
    decodeProtectedHeader(app.tokens.at(-1)!).kid,
    ((await (await fetch(`${base}/_psc/jwks.json`)).json()) as { keys: Array<{ kid: string }> }).keys[0]!.kid,
  )

  const again = await client.get(`${base}/medecins/y`)
  t.equal(again.status, 200)
  t.equal(
    app.tokens.at(-1),
    app.tokens.at(-2),
    'the same session and upstream reuse the token for the first half of its life',
  )
})

t.test('a client-sent assertion never reaches the upstream', async (t) => {
  const res = await fetch(`${base}/public/x`, { headers: { 'X-PSC-Assertion': 'forged' } })
  t.equal(res.status, 401)
  t.same(await res.json(), { refused: 'no assertion' }, 'stripped on a public route (no identity, no assertion)')
})

t.test('the upstream refuses a request without it, expired, or made for another upstream', async (t) => {
  const without = await fetch(`${app.url}/medecins/x`)
  t.equal(without.status, 401)
  t.same(await without.json(), { refused: 'no assertion' })

  // Signed with the gateway's own key and kid, but expired.
  const kid = decodeProtectedHeader(app.tokens.at(-1)!).kid!
  const now = Math.floor(Date.now() / 1000)
  const expired = await new SignJWT({ idNat: MEDECIN })
    .setProtectedHeader({ alg: 'EdDSA', kid })
    .setIssuer(base)
    .setAudience('dpi')
    .setIssuedAt(now - 120)
    .setExpirationTime(now - 100)
    .setJti('x')
    .sign(await importPKCS8(KEY, 'EdDSA'))
  const late = await fetch(`${app.url}/medecins/x`, { headers: { 'x-psc-assertion': expired } })
  t.equal(late.status, 401)
  t.same(await late.json(), { refused: 'ERR_JWT_EXPIRED' })

  // A token the gateway made for "labo", replayed against "dpi".
  const forLabo = await client.get(`${base}/labo/resultats`)
  t.equal(forLabo.status, 200, 'labo accepts its own')
  const replayed = await fetch(`${app.url}/medecins/x`, { headers: { 'x-psc-assertion': other.tokens.at(-1)! } })
  t.equal(replayed.status, 401)
  t.same(await replayed.json(), { refused: 'ERR_JWT_CLAIM_VALIDATION_FAILED' }, 'aud is "labo", not "dpi"')

  const forged = `${app.tokens.at(-1)!.slice(0, -4)}AAAA`
  const bad = await fetch(`${app.url}/medecins/x`, { headers: { 'x-psc-assertion': forged } })
  t.equal(bad.status, 401, 'a tampered signature')
})
