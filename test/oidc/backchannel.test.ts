// The logout token checks of OpenID Connect Back-Channel Logout 1.0, with real signatures: a local
// JWKS served over HTTP, tokens signed with jose.
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose'
import { createServer } from 'node:http'
import t from 'tap'
import { BackchannelLogout } from '../../src/oidc/backchannel.js'
import type { PscClient } from '../../src/oidc/psc-client.js'
import type { GatewayConfig } from '../../src/config/types.js'
import { MemorySessionStore } from '../../src/session/memory-store.js'

const ISSUER = 'https://auth.example/auth/realms/esante-wallet'
const CLIENT_ID = 'gw'
const EVENT = { 'http://schemas.openid.net/event/backchannel-logout': {} }

t.test('logout token validation', async (t) => {
  const { privateKey, publicKey } = await generateKeyPair('RS256')
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }
  const server = createServer((_req, res) => res.end(JSON.stringify({ keys: [jwk] })))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  const jwksUri = `http://127.0.0.1:${(server.address() as { port: number }).port}/certs`
  const psc = {
    configuration: { serverMetadata: () => ({ jwks_uri: jwksUri }) },
    http: { fetch: (url: string, init: RequestInit) => fetch(url, init) },
  } as unknown as PscClient
  const settings = { issuer: ISSUER, clientId: CLIENT_ID, httpTimeoutMs: 2000 } as GatewayConfig['psc']
  const store = new MemorySessionStore(100)
  const receiver = new BackchannelLogout(psc, settings, store)
  let n = 0
  const sign = (claims: JWTPayload, o: { aud?: string; iss?: string; iat?: number; alg?: string } = {}) =>
    new SignJWT({ events: EVENT, ...claims })
      .setProtectedHeader({ alg: o.alg ?? 'RS256', kid: 'k1', typ: 'logout+jwt' })
      .setIssuer(o.iss ?? ISSUER)
      .setAudience(o.aud ?? CLIENT_ID)
      .setIssuedAt(o.iat ?? Math.floor(Date.now() / 1000))
      .setJti(`jti-${++n}`)
      .sign(privateKey)

  const record = (sub: string, sid: string) => ({
    identity: { sub, idNat: 'x', familyName: 'A', givenName: 'B', acr: 'eidas1', exercices: [] },
    idToken: 'i',
    accessToken: 'a',
    accessTokenExpiresAt: 0,
    pscSid: sid,
    createdAt: Date.now(),
    lastSeenAt: Date.now(),
    ref: sid,
  })
  await store.set('s1', record('f:1:a', 'sid-a'), 60_000)
  await store.set('s2', record('f:1:a', 'sid-b'), 60_000)
  await store.set('s3', record('f:2:b', 'sid-c'), 60_000)

  t.same(
    await receiver.handle(await sign({ sid: 'sid-a', sub: 'f:1:a' })),
    { sid: 'sid-a', sub: 'f:1:a', ended: 1 },
    'by sid: that session only',
  )
  t.ok(await store.get('s2'))
  t.same(
    (await receiver.handle(await sign({ sub: 'f:1:a' }))).ended,
    1,
    'by sub: every remaining session of the practitioner',
  )
  t.ok(await store.get('s3'), 'other practitioners untouched')

  const replayed = await sign({ sid: 'sid-c' })
  await receiver.handle(replayed)
  await t.rejects(receiver.handle(replayed), /already used/, 'jti replay refused')
  const refusals: Array<[string, Promise<string>]> = [
    ['wrong audience', sign({ sid: 'z' }, { aud: 'someone-else' })],
    ['wrong issuer', sign({ sid: 'z' }, { iss: 'https://evil' })],
    ['too old', sign({ sid: 'z' }, { iat: Math.floor(Date.now() / 1000) - 3600 })],
    ['nonce present', sign({ sid: 'z', nonce: 'n' })],
    [
      'no events',
      new SignJWT({ sid: 'z' })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(ISSUER)
        .setAudience(CLIENT_ID)
        .setIssuedAt()
        .setJti('q')
        .sign(privateKey),
    ],
    ['neither sid nor sub', sign({})],
    [
      'no jti',
      new SignJWT({ sid: 'z', events: EVENT })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(ISSUER)
        .setAudience(CLIENT_ID)
        .setIssuedAt()
        .sign(privateKey),
    ],
    [
      'unsigned',
      Promise.resolve(
        `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: ISSUER, aud: CLIENT_ID, sid: 'z', events: EVENT, jti: 'u', iat: Math.floor(Date.now() / 1000) })).toString('base64url')}.`,
      ),
    ],
  ]
  for (const [what, token] of refusals)
    await t.rejects(receiver.handle(await token), { name: 'LogoutTokenError' }, what)
})
