// The PSC emulator, driven over real HTTP by openid-client 6 as a minimal relying party and by the
// browser-like client for the practitioner's side.

import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as client from 'openid-client'
import t from 'tap'
import { startEmulator, type RunningEmulator } from '../../dev/emulator/index.js'
import { identityFromPsc } from '../../src/psc/map-user-info.js'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { isEmulatorLoginPage, loginThroughEmulator } from '../helpers/emulator-login.js'

const SECRET = 'emulator-test-secret'

/** The relying party's own little server: its callback and logout pages just answer 200. */
async function startRpServer(): Promise<{ server: Server; origin: string; hits: string[] }> {
  const hits: string[] = []
  const server = createServer((req, res) => {
    hits.push(req.url ?? '')
    res.setHeader('Content-Type', 'text/html; charset=utf-8')
    res.end(`<!DOCTYPE html><title>RP</title><p>RP page ${req.url ?? ''}</p>`)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { server, origin: `http://127.0.0.1:${port}`, hits }
}

const rp = await startRpServer()
const emulator: RunningEmulator = await startEmulator({
  port: 0,
  clients: [
    {
      clientId: 'gateway',
      clientSecret: SECRET,
      redirectUris: [`${rp.origin}/_psc/callback`],
      postLogoutRedirectUris: [`${rp.origin}/_psc/logged-out`],
    },
    {
      clientId: 'gateway-post',
      clientSecret: `${SECRET}-post`,
      redirectUris: [`${rp.origin}/_psc/callback`],
      postLogoutRedirectUris: [`${rp.origin}/_psc/logged-out`],
    },
  ],
})
t.teardown(async () => {
  await emulator.close()
  await new Promise<void>((resolve) => rp.server.close(() => resolve()))
})

async function rpConfig(clientId = 'gateway', auth: client.ClientAuth = client.ClientSecretBasic(SECRET)) {
  return client.discovery(new URL(emulator.discoveryUrl), clientId, undefined, auth, {
    execute: [client.allowInsecureRequests],
  })
}

/** A full login as `idNat` with a fresh browser; returns tokens, claims and userinfo. */
async function login(idNat: string, config?: client.Configuration, acr = 'eidas1') {
  const cfg = config ?? (await rpConfig())
  const browser = new BrowserLikeClient()
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const authUrl = client.buildAuthorizationUrl(cfg, {
    redirect_uri: `${rp.origin}/_psc/callback`,
    scope: 'openid scope_all',
    acr_values: acr,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  })
  const back = await loginThroughEmulator(browser, authUrl.href, idNat)
  const tokens = await client.authorizationCodeGrant(cfg, new URL(back.url), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
  })
  const claims = tokens.claims()
  if (claims === undefined) throw new Error('no ID token')
  const userinfo = await client.fetchUserInfo(cfg, tokens.access_token, claims.sub)
  return { cfg, browser, back, tokens, claims, userinfo }
}

t.test('discovery is served at the wallet path and the standard path', async (t) => {
  t.equal(emulator.issuer, `${emulator.origin}/auth/realms/esante-wallet`)
  t.equal(emulator.discoveryUrl, `${emulator.issuer}/.well-known/wallet-openid-configuration`)
  const wallet = (await (await fetch(emulator.discoveryUrl)).json()) as Record<string, any>
  const standard = await (await fetch(`${emulator.issuer}/.well-known/openid-configuration`)).json()
  t.same(wallet, standard)
  t.equal(wallet.issuer, emulator.issuer)
  const oidc = `${emulator.issuer}/protocol/openid-connect`
  t.equal(wallet.authorization_endpoint, `${oidc}/auth`)
  t.equal(wallet.token_endpoint, `${oidc}/token`)
  t.equal(wallet.userinfo_endpoint, `${oidc}/userinfo`)
  t.equal(wallet.end_session_endpoint, `${oidc}/logout`)
  t.equal(wallet.jwks_uri, `${oidc}/certs`)
  t.equal(wallet.revocation_endpoint, `${oidc}/revoke`)
  t.equal(wallet.introspection_endpoint, `${oidc}/token/introspect`)
  t.same(wallet.acr_values_supported, ['eidas1', 'eidas2', 'eidas3'])
  t.ok(wallet.scopes_supported.includes('scope_all'))
  t.same(wallet.code_challenge_methods_supported, ['S256'])
  t.same(wallet.response_types_supported, ['code'])
  t.ok(wallet.token_endpoint_auth_methods_supported.includes('client_secret_basic'))
  t.ok(wallet.token_endpoint_auth_methods_supported.includes('client_secret_post'))
  t.equal(wallet.backchannel_logout_supported, true)
  const jwks = (await (await fetch(wallet.jwks_uri)).json()) as { keys: Record<string, unknown>[] }
  t.equal(jwks.keys.length, 1)
  t.notOk('d' in (jwks.keys[0] ?? {}), 'no private key material published')
})

t.test('login page lists every practitioner as a button of one form, HTML-escaped', async (t) => {
  const cfg = await rpConfig()
  const browser = new BrowserLikeClient()
  const url = client.buildAuthorizationUrl(cfg, {
    redirect_uri: `${rp.origin}/_psc/callback`,
    scope: 'openid scope_all',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
    state: client.randomState(),
  })
  const page = await browser.follow(url.href)
  t.ok(isEmulatorLoginPage(page))
  t.match(page.headers['content-type'], /text\/html/)
  t.equal(page.body.match(/<form /g)?.length, 1)
  t.match(page.body, /<form method="post" action="\/auth\/realms\/esante-wallet\/interaction\/[^"/]+\/login">/)
  for (const p of emulator.practitioners) {
    const value = p.idNat.replaceAll("'", '&#39;')
    t.ok(page.body.includes(`name="practitioner" value="${value}"`), `button for ${p.idNat}`)
  }
  t.ok(page.body.includes('Jean-François D&#39;Aubigné'), 'apostrophe escaped')
  t.ok(page.body.includes('Mœller-N&#39;Diaye'))
  t.notOk(page.body.includes('<Les Lilas>'), 'no raw markup from the YAML file')
  t.ok(page.body.includes('Médecin (10)'))
  t.ok(page.body.includes('profession hors TRE_G15 (93)'), 'a code outside TRE_G15, said in French')
  t.notOk(page.body.includes('unknown'))
})

t.test('full code flow as Zoé: eidas2, refresh token, PSC userinfo shape', async (t) => {
  const { cfg, tokens, claims, userinfo, back } = await login('899700412345')
  t.match(back.url, `${rp.origin}/_psc/callback?`)
  t.equal(claims.iss, emulator.issuer)
  t.match(claims.sub, /^f:[0-9a-f-]{36}:899700412345$/)
  t.equal(claims.acr, 'eidas2')
  t.equal(claims.authMode, 'CARD')
  t.equal(claims.preferred_username, '899700412345')
  t.type(claims.sid, 'string')
  t.type(claims.auth_time, 'number')
  t.same(claims.otherIds, [{ identifiant: '99700412345', origine: 'RPPS', qualite: 1 }])
  t.notOk('SubjectRefPro' in claims, 'the ID token stays small: PSC details are in UserInfo')
  t.equal(tokens.expires_in, 120)
  t.type(tokens.refresh_token, 'string')
  t.equal(tokens.token_type.toLowerCase(), 'bearer')

  for (const key of [
    'SubjectNameID',
    'preferred_username',
    'given_name',
    'family_name',
    'codeCivilite',
    'SubjectRole',
    'SubjectOrganization',
    'SubjectOrganizationID',
    'Secteur_Activite',
    'Palier_Authentification',
    'Mode_Acces_Raison',
    'Acces_Regulation_Medicale',
    'UITVersion',
    'PSI_Locale',
    'otherIds',
    'SubjectRefPro',
  ]) {
    t.ok(key in userinfo, `userinfo has ${key}`)
  }
  t.equal(userinfo.sub, claims.sub)
  t.equal(userinfo.SubjectNameID, '899700412345')
  t.equal(userinfo.Acces_Regulation_Medicale, 'FAUX')
  t.same(userinfo.SubjectRole, ['10^1.2.250.1.213.1.1.5.5', '50^1.2.250.1.213.1.1.5.5'])
  const exercices = (userinfo.SubjectRefPro as { exercices: Record<string, unknown>[] }).exercices
  t.equal(exercices.length, 2)
  t.equal(exercices[0]?.codeSavoirFaire, 'SM54')
  t.type((exercices[0]!.activities as unknown[])[0], 'object')

  const identity = identityFromPsc(userinfo, claims)
  t.equal(identity.idNat, '899700412345')
  t.equal(identity.rpps, '99700412345')
  t.equal(identity.acr, 'eidas2')
  t.equal(identity.givenName, 'Zoé')
  t.equal(identity.familyName, "Mœller-N'Diaye")
  t.same(
    identity.exercices.map((e) => e.professionLabel),
    ['Médecin', 'Sage-Femme'],
  )

  const refreshed = await client.refreshTokenGrant(cfg, tokens.refresh_token as string)
  t.type(refreshed.access_token, 'string')
  t.not(refreshed.access_token, tokens.access_token)
  t.equal(refreshed.expires_in, 120)
  const again = await client.fetchUserInfo(cfg, refreshed.access_token, claims.sub)
  t.equal(again.SubjectNameID, '899700412345')
})

t.test('Marc logs in with MOBILE and eidas3; non-RPPS idNat with a slash', async (t) => {
  const { claims, userinfo } = await login('500000001815646/CPAT00045')
  t.equal(claims.acr, 'eidas3')
  t.equal(claims.authMode, 'MOBILE')
  t.equal(claims.sub.endsWith(':500000001815646/CPAT00045'), true)
  const identity = identityFromPsc(userinfo, claims)
  t.equal(identity.idNat, '500000001815646/CPAT00045')
  t.equal(identity.rpps, undefined)
  t.equal(identity.authMode, 'MOBILE')
})

t.test('the sub is stable across logins', async (t) => {
  const a = await login('899700218896')
  const b = await login('899700218896')
  t.equal(a.claims.sub, b.claims.sub)
  t.equal(a.claims.acr, 'eidas1')
})

t.test('client_secret_post works', async (t) => {
  const cfg = await rpConfig('gateway-post', client.ClientSecretPost(`${SECRET}-post`))
  const { claims, tokens } = await login('0012345678', cfg)
  t.equal(claims.preferred_username, '0012345678')
  const refreshed = await client.refreshTokenGrant(cfg, tokens.refresh_token as string)
  t.type(refreshed.access_token, 'string')
})

t.test('a wrong client secret is refused at the token endpoint', async (t) => {
  const good = await rpConfig()
  const bad = await rpConfig('gateway', client.ClientSecretBasic('not-the-secret'))
  const browser = new BrowserLikeClient()
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const url = client.buildAuthorizationUrl(good, {
    redirect_uri: `${rp.origin}/_psc/callback`,
    scope: 'openid scope_all',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  })
  const back = await loginThroughEmulator(browser, url.href, '899700367915')
  const err = await client
    .authorizationCodeGrant(bad, new URL(back.url), { pkceCodeVerifier: verifier, expectedState: state })
    .then(
      () => undefined,
      (e: unknown) => e,
    )
  t.ok(err instanceof client.WWWAuthenticateChallengeError, 'refused with a Basic challenge')
  const challenge = err instanceof client.WWWAuthenticateChallengeError ? err.cause[0] : undefined
  t.equal(challenge?.parameters.error, 'invalid_client')
  t.equal((err as { status?: number }).status, 401)
  // the code was not burnt by the failed attempt's client: the right secret still redeems it
  const ok = await client.authorizationCodeGrant(good, new URL(back.url), {
    pkceCodeVerifier: verifier,
    expectedState: state,
  })
  t.type(ok.access_token, 'string')
})

t.test('PKCE is required', async (t) => {
  const cfg = await rpConfig()
  const browser = new BrowserLikeClient()
  const url = client.buildAuthorizationUrl(cfg, {
    redirect_uri: `${rp.origin}/_psc/callback`,
    scope: 'openid scope_all',
    state: client.randomState(),
  })
  const res = await browser.follow(url.href)
  t.match(res.url, `${rp.origin}/_psc/callback?`)
  t.equal(new URL(res.url).searchParams.get('error'), 'invalid_request')
})

t.test('RP-initiated logout redirects to the registered post_logout_redirect_uri', async (t) => {
  const { cfg, browser, tokens } = await login('899700555555')
  const logoutUrl = client.buildEndSessionUrl(cfg, {
    id_token_hint: tokens.id_token as string,
    post_logout_redirect_uri: `${rp.origin}/_psc/logged-out`,
    state: 'bye',
  })
  const res = await browser.follow(logoutUrl.href)
  t.equal(res.url, `${rp.origin}/_psc/logged-out?state=bye`)
  t.equal(res.status, 200)
  // the PSC session is gone: a new authorization shows the login page again
  const url = client.buildAuthorizationUrl(cfg, {
    redirect_uri: `${rp.origin}/_psc/callback`,
    scope: 'openid scope_all',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
    state: client.randomState(),
  })
  t.ok(isEmulatorLoginPage(await browser.follow(url.href)))
  // and the refresh token died with it
  const err = await client.refreshTokenGrant(cfg, tokens.refresh_token as string).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(err instanceof client.ResponseBodyError)
  t.equal((err as { error?: string }).error, 'invalid_grant')
})

t.test('an unregistered post_logout_redirect_uri is refused', async (t) => {
  const { browser, tokens, cfg } = await login('899700367915')
  const logoutUrl = client.buildEndSessionUrl(cfg, {
    id_token_hint: tokens.id_token as string,
    post_logout_redirect_uri: 'https://evil.example/',
  })
  const res = await browser.follow(logoutUrl.href)
  t.equal(res.status, 400)
  t.notOk(res.url.startsWith('https://evil.example'))
})

t.test('an SSO session skips the practitioner page on the next authorization', async (t) => {
  const { cfg, browser } = await login('899700218896')
  const url = client.buildAuthorizationUrl(cfg, {
    redirect_uri: `${rp.origin}/_psc/callback`,
    scope: 'openid scope_all',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
    state: 'st',
  })
  const res = await browser.follow(url.href)
  t.match(res.url, `${rp.origin}/_psc/callback?`)
  t.type(new URL(res.url).searchParams.get('code'), 'string')
})

t.test('back-channel logout: the registered URI receives a logout token with the session sid', async (t) => {
  const received: string[] = []
  const bc = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      received.push(body)
      res.end()
    })
  })
  await new Promise<void>((resolve) => bc.listen(0, '127.0.0.1', resolve))
  const bcOrigin = `http://127.0.0.1:${(bc.address() as AddressInfo).port}`
  const emu = await startEmulator({
    port: 0,
    clients: [
      {
        clientId: 'bc',
        clientSecret: SECRET,
        redirectUris: [`${rp.origin}/_psc/callback`],
        postLogoutRedirectUris: [`${rp.origin}/_psc/logged-out`],
        backchannelLogoutUri: `${bcOrigin}/_psc/backchannel-logout`,
      },
    ],
    accessTokenTtlSeconds: 30,
  })
  t.teardown(async () => {
    await emu.close()
    await new Promise<void>((resolve) => bc.close(() => resolve()))
  })
  const cfg = await client.discovery(new URL(emu.discoveryUrl), 'bc', undefined, client.ClientSecretBasic(SECRET), {
    execute: [client.allowInsecureRequests],
  })
  const verifier = client.randomPKCECodeVerifier()
  const browser = new BrowserLikeClient()
  const url = client.buildAuthorizationUrl(cfg, {
    redirect_uri: `${rp.origin}/_psc/callback`,
    scope: 'openid scope_all',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  })
  const back = await loginThroughEmulator(browser, url.href, '899700218896')
  const tokens = await client.authorizationCodeGrant(cfg, new URL(back.url), { pkceCodeVerifier: verifier })
  t.equal(tokens.expires_in, 30, 'configurable access token TTL')
  const sid = tokens.claims()?.sid
  t.type(sid, 'string')
  const res = await browser.follow(
    client.buildEndSessionUrl(cfg, {
      id_token_hint: tokens.id_token as string,
      post_logout_redirect_uri: `${rp.origin}/_psc/logged-out`,
    }).href,
  )
  t.equal(res.url, `${rp.origin}/_psc/logged-out`)
  t.equal(received.length, 1)
  const logoutToken = new URLSearchParams(received[0]).get('logout_token') ?? ''
  const payload = JSON.parse(Buffer.from(logoutToken.split('.')[1] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >
  t.equal(payload.iss, emu.issuer)
  t.equal(payload.aud, 'bc')
  t.equal(payload.sid, sid)
  t.equal(payload.sub, tokens.claims()?.sub)
  t.ok(
    payload.events &&
      typeof payload.events === 'object' &&
      'http://schemas.openid.net/event/backchannel-logout' in payload.events,
  )
})
