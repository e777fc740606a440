// The assertion issuer alone: ES256 and EdDSA keys, rotation (every key published, the first
// signs), token reuse for half its life, and keys refused at load time with their line.
import { generateKeyPairSync } from 'node:crypto'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import t from 'tap'
import { loadConfigText } from '../../src/config/load.js'
import { ConfigError } from '../../src/config/config-error.js'
import type { GatewayConfig, UpstreamSettings } from '../../src/config/types.js'
import { FIRST_EXERCICE } from '../../src/policy/exercice-in-context.js'
import { AssertionIssuer } from '../../src/proxy/identity-assertion.js'
import type { Identity } from '../../src/psc/identity.js'

const pem = (type: 'ed25519' | 'ec' | 'rsa'): string => {
  const pair =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : type === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ed25519')
  return pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
}

const identity = {
  sub: 'f:550dc1c8-d97b-4b1e-ac8c-8eb4471cf9dd:899700218896',
  idNat: '899700218896',
  familyName: 'Lefèvre',
  givenName: 'Élodie',
  exercices: [],
} as unknown as Identity
const upstream: UpstreamSettings = {
  name: 'dpi',
  url: 'http://127.0.0.1:1',
  websocket: false,
  forwardAccessToken: false,
  assertion: { header: 'X-PSC-Assertion', audience: 'dpi', ttlMs: 60_000 },
}
const fields = [
  { header: 'X-PSC-IdNat', field: 'idNat' as const },
  { header: 'X-PSC-Family-Name', field: 'familyName' as const },
]
const configWith = (keys: string[]) => ({ assertion: { keys, issuer: 'https://dpi.hopital.fr' } }) as GatewayConfig

t.test('ES256 key, rotation: both keys published, the first signs', async (t) => {
  const issuer = await AssertionIssuer.create(configWith([pem('ec'), pem('ed25519')]))
  t.equal(issuer.jwks.keys.length, 2)
  t.same(
    issuer.jwks.keys.map((k) => k.alg),
    ['ES256', 'EdDSA'],
  )
  const token = issuer.headerFor(identity, upstream, fields, undefined, FIRST_EXERCICE)!.value
  t.equal(decodeProtectedHeader(token).kid, issuer.jwks.keys[0]!.kid)
  const { payload } = await jwtVerify(token, createLocalJWKSet(issuer.jwks), {
    audience: 'dpi',
    issuer: 'https://dpi.hopital.fr',
  })
  t.equal(payload.familyName, 'Lefèvre', 'UTF-8 claims as they are (no header encoding)')
  t.equal(payload.sub, identity.sub)
})

t.test('a token is reused for one session and upstream during the first half of its life, then renewed', async (t) => {
  let now = 1_800_000_000_000
  const issuer = await AssertionIssuer.create(configWith([]), () => now)
  t.ok(issuer.generated, 'no key configured: one generated at start')
  const first = issuer.headerFor(identity, upstream, fields, 'session-a', FIRST_EXERCICE)!.value
  now += 29_000
  t.equal(
    issuer.headerFor(identity, upstream, fields, 'session-a', FIRST_EXERCICE)!.value,
    first,
    'reused at 29 s of 60',
  )
  t.not(
    issuer.headerFor(identity, upstream, fields, 'session-b', FIRST_EXERCICE)!.value,
    first,
    'another session gets its own',
  )
  now += 1_000
  const renewed = issuer.headerFor(identity, upstream, fields, 'session-a', FIRST_EXERCICE)!.value
  t.not(renewed, first, 'renewed at half its life')
  const { payload } = await jwtVerify(renewed, createLocalJWKSet(issuer.jwks), {
    audience: 'dpi',
    currentDate: new Date(now),
  })
  t.equal(payload.iat, Math.floor(now / 1000))
  t.equal(
    issuer.headerFor(identity, { ...upstream, assertion: undefined }, fields, 'session-a', FIRST_EXERCICE),
    undefined,
    'an upstream without assertion gets none',
  )
})

t.test('a forward-auth token names its route, and is never reused for another route', async (t) => {
  const issuer = await AssertionIssuer.create(configWith([]))
  const forDossiers = issuer.headerFor(identity, upstream, fields, 'session-a', FIRST_EXERCICE, 'dossiers')!.value
  t.equal(
    issuer.headerFor(identity, upstream, fields, 'session-a', FIRST_EXERCICE, 'dossiers')!.value,
    forDossiers,
    'reused for the same route',
  )
  const forAdmin = issuer.headerFor(identity, upstream, fields, 'session-a', FIRST_EXERCICE, 'admin')!.value
  t.not(forAdmin, forDossiers, 'another route: another token')
  const verify = async (token: string) =>
    (await jwtVerify(token, createLocalJWKSet(issuer.jwks), { audience: 'dpi' })).payload
  t.equal((await verify(forDossiers)).route, 'dossiers')
  t.equal((await verify(forAdmin)).route, 'admin')
  t.notOk(
    'route' in (await verify(issuer.headerFor(identity, upstream, fields, 'session-a', FIRST_EXERCICE)!.value)),
    'proxy mode: no route claim, as before',
  )
})

t.test('unusable keys and lifetimes are configuration errors with their line', async (t) => {
  const yaml = (extra: string) => `
publicUrl: http://localhost:8080
psc: { environment: bas, clientId: c, clientSecret: s }
session: { secrets: ["0123456789abcdef0123456789abcdef"] }
upstreams:
  app: { url: "http://127.0.0.1:9000", assertion: { audience: app, ttl: 2s } }
routes: [{ name: all, upstream: app, access: authenticated }]
assertion:
  keys: ["\${K}"]
${extra}`
  const err = t.throws(() => loadConfigText(yaml(''), 'a.yaml', { K: pem('rsa') })) as ConfigError
  t.type(err, ConfigError)
  t.match(err.message, /a\.yaml:9:10: assertion\.keys\[0\]/)
  t.match(err.message, /rsa key cannot sign assertions: use Ed25519 \(EdDSA\) or P-256 \(ES256\)/)
  t.match(err.message, /ttl.*between 10s and 10m/)
  t.notMatch(err.message, /BEGIN/, 'the key itself is never echoed')
  const notPem = t.throws(() => loadConfigText(yaml(''), 'a.yaml', { K: 'not a key' })) as ConfigError
  t.match(notPem.message, /not a PEM private key/)
})
