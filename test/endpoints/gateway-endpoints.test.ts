// The gateway's own endpoints (endpoints/gateway-endpoints.ts and the callback and logout routes it registers):
// login, callback failures by code, logout (same-origin, cross-site, during a store outage) and /me.
// fastify's inject; PSC is a real openid-client Configuration whose HTTP calls go to a fetch
// function (no network); the memory session store, made to fail like an unreachable Redis.
import fastifyCookie from '@fastify/cookie'
import Fastify, { type FastifyInstance } from 'fastify'
import { readFileSync } from 'node:fs'
import { generateKeyPair, SignJWT } from 'jose'
import * as oidc from 'openid-client'
import t, { type Test } from 'tap'
import type { AuditEvent } from '../../src/audit/events.js'
import type { PscClient } from '../../src/oidc/psc-client.js'
import { registerAuthRoutes } from '../../src/endpoints/gateway-endpoints.js'
import { decodeTransactions } from '../../src/oidc/transaction.js'
import { sessionReference } from '../../src/session/ids.js'
import { SessionManager } from '../../src/session/manager.js'
import type { RequestScope } from '../../src/scope.js'
import {
  captureAudit,
  doctor,
  FlakyStore,
  PUBLIC_HOST,
  sessionFields,
  unitConfig,
  UNIT_SECRET,
} from '../helpers/unit.js'

const ISSUER = 'https://psc.test'
const USERINFO = JSON.parse(
  readFileSync(new URL('../fixtures/userinfo-example.json', import.meta.url), 'utf8'),
) as Record<string, unknown>
const SUB = USERINFO.sub as string // "f:<uuid>:ANS20231122132732"
const { privateKey } = await generateKeyPair('RS256')

type Handler = (body: URLSearchParams) => Response | Promise<Response>
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })

interface AuthApp {
  app: FastifyInstance
  sessions: SessionManager
  store: FlakyStore
  audit: AuditEvent[]
  scopes: RequestScope[]
  /** PSC's token and userinfo endpoints, replaceable per test */
  psc: { token: Handler; userinfo: Handler; calls: string[] }
  cookieFor(id: string): string
}

async function authApp(t: Test, o: { pscReady?: boolean } = {}): Promise<AuthApp> {
  const config = unitConfig()
  const store = new FlakyStore()
  const sessions = new SessionManager(store, config.session)
  t.teardown(() => sessions.stop())
  const { events, trail } = captureAudit()
  const endpoints: AuthApp['psc'] = {
    token: () => json(500, {}),
    userinfo: () => json(200, USERINFO),
    calls: [],
  }
  const configuration = new oidc.Configuration(
    {
      issuer: ISSUER,
      authorization_endpoint: `${ISSUER}/auth`,
      token_endpoint: `${ISSUER}/token`,
      userinfo_endpoint: `${ISSUER}/userinfo`,
      end_session_endpoint: `${ISSUER}/logout`,
    },
    config.psc.clientId,
    config.psc.clientSecret,
  )
  configuration[oidc.customFetch] = async (url: string, init: oidc.CustomFetchOptions) => {
    endpoints.calls.push(url)
    const body = new URLSearchParams(typeof init.body === 'string' ? init.body : '')
    if (url === `${ISSUER}/token`) return endpoints.token(body)
    if (url === `${ISSUER}/userinfo`) return endpoints.userinfo(body)
    throw new Error(`unexpected call to ${url}`)
  }
  const psc = {
    configuration: o.pscReady === false ? undefined : configuration,
    availability: o.pscReady === false ? 'unreachable' : 'ready',
    status:
      o.pscReady === false
        ? { ready: false, reason: 'PSC discovery failed (test): ECONNREFUSED', since: 0 }
        : { ready: true, since: 0 },
  } as unknown as PscClient
  const app = Fastify()
  app.decorateRequest('pscScope', null)
  await app.register(fastifyCookie, { secret: [UNIT_SECRET], hook: false })
  const scopes: RequestScope[] = []
  app.addHook('onResponse', (request, reply, done) => {
    if (request.pscScope) scopes.push(request.pscScope)
    void trail.finish(request, {
      status: reply.statusCode,
      durationMs: 0,
      access: request.pscScope ?? { decision: 'reject' },
    })
    done()
  })
  await registerAuthRoutes(app, { config, psc, sessions, audit: trail })
  await app.ready()
  t.teardown(() => app.close())
  return {
    app,
    sessions,
    store,
    audit: events,
    scopes,
    psc: endpoints,
    cookieFor: (id) => `psc_session=${app.signCookie(id)}`,
  }
}

/** Starts a login; returns the transaction cookie and the state and nonce PSC would be sent. */
async function startLogin(
  a: AuthApp,
  rd = '/dossiers?q=jean%20dupont',
): Promise<{ cookie: string; state: string; nonce: string; location: URL }> {
  const res = await a.app.inject({ url: `/_psc/login?rd=${encodeURIComponent(rd)}`, headers: { host: PUBLIC_HOST } })
  const setCookie = String(res.headers['set-cookie'])
  const location = new URL(String(res.headers.location))
  return {
    cookie: setCookie.split(';')[0]!,
    state: location.searchParams.get('state')!,
    nonce: location.searchParams.get('nonce')!,
    location,
  }
}

function idToken(nonce: string, claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ nonce, acr: 'eidas1', sid: 'psc-sid-1', ...claims })
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(ISSUER)
    .setAudience('unit-client')
    .setSubject(SUB)
    .setIssuedAt()
    .setExpirationTime('2m')
    .sign(privateKey)
}

const ev = (a: AuthApp) => a.audit.map((e) => e as unknown as Record<string, unknown>)

t.test('login while PSC is not ready: 503 page, scope with the reason, no transaction cookie', async (t) => {
  const a = await authApp(t, { pscReady: false })
  const res = await a.app.inject({ url: '/_psc/login?rd=%2Fdossiers', headers: { host: PUBLIC_HOST } })
  t.equal(res.statusCode, 503)
  t.match(res.body, '<title>Service de connexion indisponible</title>')
  t.match(res.body, 'La connexion à Pro Santé Connect n&#39;est pas possible pour le moment.')
  t.notMatch(res.body, 'ECONNREFUSED')
  t.equal(res.headers['set-cookie'], undefined)
  t.same(a.scopes, [
    {
      decision: 'login',
      route: 'gateway:login',
      reason: 'PSC_ERR_PSC_UNAVAILABLE',
      detail: 'PSC discovery failed (test): ECONNREFUSED',
    },
  ])
})

t.test(
  'login: 302 to PSC with code + PKCE, eidas1, scope_all; the transaction cookie keeps the deep link',
  async (t) => {
    const a = await authApp(t)
    const res = await a.app.inject({
      url: '/_psc/login?rd=%2Fdossiers%2Frecherche%3Fq%3Djean%2520dupont',
      headers: { host: PUBLIC_HOST },
    })
    t.equal(res.statusCode, 302)
    t.equal(res.headers['cache-control'], 'no-store')
    const location = new URL(String(res.headers.location))
    t.equal(location.origin + location.pathname, `${ISSUER}/auth`)
    const p = location.searchParams
    t.equal(p.get('client_id'), 'unit-client')
    t.equal(p.get('redirect_uri'), `http://${PUBLIC_HOST}/_psc/callback`)
    t.equal(p.get('response_type'), 'code')
    t.equal(p.get('scope'), 'openid scope_all')
    t.equal(p.get('acr_values'), 'eidas1')
    t.equal(p.get('code_challenge_method'), 'S256')
    t.match(p.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/)
    const setCookie = String(res.headers['set-cookie'])
    t.match(setCookie, /^psc_login=[^;]+; Max-Age=600; Path=\/; HttpOnly; SameSite=Lax$/)
    const unsigned = a.app.unsignCookie(decodeURIComponent(setCookie.split(';')[0]!.slice('psc_login='.length)))
    t.equal(unsigned.valid, true, 'the transaction cookie is signed')
    const [tx] = decodeTransactions(unsigned.value ?? '', Date.now())
    t.equal(tx?.state, p.get('state'))
    t.equal(tx?.nonce, p.get('nonce'))
    t.equal(tx?.returnTo, '/dossiers/recherche?q=jean%20dupont', 'the %20 of the deep link survives')
    t.same(a.scopes, [{ decision: 'login', route: 'gateway:login' }])
    t.match(ev(a)[0], { event: 'login', outcome: 'started' })
  },
)

t.test('login with an unsafe rd: back to /', async (t) => {
  const a = await authApp(t)
  const { cookie } = await startLogin(a, 'https://evil.test/x')
  const [tx] = decodeTransactions(
    a.app.unsignCookie(decodeURIComponent(cookie.slice('psc_login='.length))).value ?? '',
    Date.now(),
  )
  t.equal(tx?.returnTo, '/')
})

interface FailureCase {
  name: string
  /** builds the callback's query (after a login was started in this browser, unless noCookie) */
  query: (s: { state: string }) => string
  noCookie?: boolean
  token?: (nonce: string) => Handler
  userinfo?: Handler
  storeDown?: boolean
  /** the browser still sends the cookie of an earlier session */
  oldSession?: boolean
  status: number
  code: string
  page: string
  detail: string | RegExp
  idNat?: string
}

const failures: FailureCase[] = [
  {
    name: 'no state',
    query: () => 'code=abc',
    noCookie: true,
    status: 400,
    code: 'PSC_ERR_LOGIN_NO_STATE',
    page: 'Le retour de Pro Santé Connect ne correspond à aucune connexion en cours.',
    detail: 'the callback carries no state',
  },
  {
    name: 'unknown state (no login started in this browser)',
    query: () => 'code=abc&state=forged',
    noCookie: true,
    status: 400,
    code: 'PSC_ERR_LOGIN_UNKNOWN_STATE',
    page: 'ne correspond à aucune connexion commencée dans ce navigateur',
    detail: 'unknown or expired login (state does not match a login started in this browser)',
  },
  {
    name: 'unknown state (another login of this browser)',
    query: () => 'code=abc&state=other',
    status: 400,
    code: 'PSC_ERR_LOGIN_UNKNOWN_STATE',
    page: 'ne correspond à aucune connexion commencée dans ce navigateur',
    detail: 'unknown or expired login (state does not match a login started in this browser)',
  },
  {
    name: 'cancelled at PSC',
    query: ({ state }) => `error=access_denied&error_description=user+cancelled&state=${state}`,
    status: 400,
    code: 'PSC_ERR_LOGIN_CANCELLED',
    page: 'La connexion a été annulée ou refusée sur Pro Santé Connect.',
    detail: 'PSC answered access_denied: user cancelled',
  },
  {
    name: 'PSC refuses the code',
    query: ({ state }) => `code=abc&state=${state}`,
    token: () => () => json(400, { error: 'invalid_grant', error_description: 'code expired' }),
    status: 400,
    code: 'PSC_ERR_LOGIN_PSC_ERROR',
    page: 'Pro Santé Connect a refusé la demande de connexion.',
    detail: 'PSC answered invalid_grant: code expired',
  },
  {
    name: 'PSC unreachable at the token endpoint',
    query: ({ state }) => `code=abc&state=${state}`,
    token: () => () => {
      throw new TypeError('fetch failed')
    },
    status: 502,
    code: 'PSC_ERR_LOGIN_PSC_UNREACHABLE',
    page: 'Pro Santé Connect n&#39;a pas répondu à la fin de la connexion.',
    detail: 'fetch failed',
  },
  {
    name: 'authentication level too low',
    query: ({ state }) => `code=abc&state=${state}`,
    token: (nonce) => async () =>
      json(200, {
        access_token: 'at',
        token_type: 'Bearer',
        expires_in: 120,
        id_token: await idToken(nonce, { acr: 'eidas0', preferred_username: '810000000001' }),
      }),
    status: 403,
    code: 'PSC_ERR_LOGIN_ACR_TOO_LOW',
    page: 'n&#39;offre pas le niveau de sécurité exigé par cette application',
    detail: 'authentication level eidas0 is below the required eidas1',
    idNat: '810000000001',
  },
  {
    name: 'UserInfo unreadable (another subject)',
    query: ({ state }) => `code=abc&state=${state}`,
    token: (nonce) => async () =>
      json(200, { access_token: 'at', token_type: 'Bearer', expires_in: 120, id_token: await idToken(nonce) }),
    userinfo: () => json(200, { ...USERINFO, sub: 'f:someone-else:899999999999' }),
    status: 502,
    code: 'PSC_ERR_LOGIN_USERINFO',
    page: 'Votre profil n&#39;a pas pu être lu auprès de Pro Santé Connect.',
    detail: /^UserInfo: /,
    idNat: 'ANS20231122132732',
  },
  {
    name: 'session store down at the end of the login',
    query: ({ state }) => `code=abc&state=${state}`,
    token: (nonce) => async () =>
      json(200, { access_token: 'at', token_type: 'Bearer', expires_in: 120, id_token: await idToken(nonce) }),
    storeDown: true,
    status: 503,
    code: 'PSC_ERR_LOGIN_STORE_UNAVAILABLE',
    page: 'Vous avez bien été authentifié, mais votre session n&#39;a pas pu être enregistrée pour le moment.',
    detail: 'connection refused (test)',
    idNat: 'ANS20231122132732',
  },
  {
    name: 'session store down at the end of the login, an earlier session cookie sent',
    query: ({ state }) => `code=abc&state=${state}`,
    token: (nonce) => async () =>
      json(200, { access_token: 'at', token_type: 'Bearer', expires_in: 120, id_token: await idToken(nonce) }),
    storeDown: true,
    oldSession: true,
    status: 503,
    code: 'PSC_ERR_LOGIN_STORE_UNAVAILABLE',
    page: 'Vous avez bien été authentifié, mais votre session n&#39;a pas pu être enregistrée pour le moment.',
    detail: 'connection refused (test)',
    idNat: 'ANS20231122132732',
  },
]

for (const f of failures) {
  t.test(`callback failure: ${f.name} → ${f.status} ${f.code}`, async (t) => {
    const a = await authApp(t)
    const login = f.noCookie ? undefined : await startLogin(a)
    a.audit.length = 0
    a.scopes.length = 0
    if (f.token && login) a.psc.token = f.token(login.nonce)
    if (f.userinfo) a.psc.userinfo = f.userinfo
    const old = f.oldSession ? await a.sessions.create(sessionFields()) : undefined
    if (f.storeDown) a.store.down = 'async'
    const cookie = [login?.cookie, old && a.cookieFor(old.id)].filter((c) => c !== undefined).join('; ')
    const res = await a.app.inject({
      url: `/_psc/callback?${f.query({ state: login?.state ?? '' })}`,
      headers: cookie ? { host: PUBLIC_HOST, cookie } : { host: PUBLIC_HOST },
    })
    t.equal(res.statusCode, f.status)
    t.match(res.body, '<title>La connexion n&#39;a pas abouti</title>')
    t.match(res.body, f.page)
    t.match(res.body, 'Vous pouvez recommencer la connexion.')
    t.equal(res.headers['referrer-policy'], 'no-referrer', 'the code stays out of any Referer')
    t.equal(res.headers['cache-control'], 'no-store')
    // a way to log in again, back to the page first asked for when the login was found
    t.match(
      res.body,
      login && !f.query({ state: '' }).includes('other') && f.code !== 'PSC_ERR_LOGIN_UNKNOWN_STATE'
        ? 'href="/_psc/login?rd=%2Fdossiers%3Fq%3Djean%2520dupont"'
        : 'href="/_psc/login"',
    )
    const failed = ev(a).find((e) => e.event === 'login')
    t.match(failed, { event: 'login', outcome: 'failed', reason: f.code, detail: f.detail })
    t.equal(failed?.idNat, f.idNat)
    t.equal(a.scopes.length, 1)
    t.equal(a.scopes[0]?.decision, 'login')
    t.equal(a.scopes[0]?.route, 'gateway:callback')
    t.equal(a.scopes[0]?.reason, f.code)
    t.match(a.scopes[0]?.detail, f.detail)
    t.equal(a.scopes[0]?.idNat, f.idNat)
    t.notMatch(
      res.body,
      typeof f.detail === 'string' ? f.detail : 'UserInfo:',
      'technical detail stays out of the page',
    )
    t.equal(a.store.size(), f.oldSession ? 1 : 0, 'no session made')
  })
}

t.test('callback success: a new session, the cookie, the deep link, audited', async (t) => {
  const a = await authApp(t)
  const login = await startLogin(a)
  a.audit.length = 0
  a.scopes.length = 0
  a.psc.token = async () =>
    json(200, {
      access_token: 'at-1',
      token_type: 'Bearer',
      expires_in: 120,
      refresh_token: 'rt-1',
      id_token: await idToken(login.nonce),
    })
  const res = await a.app.inject({
    url: `/_psc/callback?code=abc&state=${login.state}`,
    headers: { host: PUBLIC_HOST, cookie: login.cookie },
  })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, '/dossiers?q=jean%20dupont')
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? [])
  t.match(
    cookies.find((c) => c.startsWith('psc_login=')),
    /^psc_login=; Max-Age=0/,
    'the finished login leaves the transaction cookie',
  )
  const session = cookies.find((c) => c.startsWith('psc_session='))
  t.match(session, /; Max-Age=28800; Path=\/; HttpOnly; SameSite=Lax$/)
  const id = a.app.unsignCookie(decodeURIComponent(session!.split(';')[0]!.slice('psc_session='.length))).value!
  const record = a.store.get(id)
  t.equal(record?.identity.idNat, 'ANS20231122132732')
  t.equal(record?.accessToken, 'at-1')
  t.equal(record?.refreshToken, 'rt-1')
  t.equal(record?.pscSid, 'psc-sid-1')
  const ref = sessionReference(id)
  t.match(ev(a)[0], { event: 'login', outcome: 'succeeded', session: ref, idNat: 'ANS20231122132732', acr: 'eidas1' })
  t.match(ev(a)[1], { event: 'session', outcome: 'created', session: ref })
  t.same(a.scopes, [
    { decision: 'allow', route: 'gateway:callback', session: ref, idNat: 'ANS20231122132732', profession: '80' },
  ])
  // the same state cannot be used twice
  const again = await a.app.inject({
    url: `/_psc/callback?code=abc&state=${login.state}`,
    headers: { host: PUBLIC_HOST, cookie: cookies.find((c) => c.startsWith('psc_login='))!.split(';')[0] },
  })
  t.equal(again.statusCode, 400)
})

async function withSession(a: AuthApp): Promise<{ id: string; ref: string }> {
  const { id } = await a.sessions.create(sessionFields(doctor(), { idToken: 'id-token-hint' }))
  return { id, ref: sessionReference(id) }
}

t.test('logout, same origin: session ended, cookie cleared, RP-initiated logout at PSC, audited', async (t) => {
  const a = await authApp(t)
  const s = await withSession(a)
  const res = await a.app.inject({
    url: '/_psc/logout',
    headers: { host: PUBLIC_HOST, 'sec-fetch-site': 'same-origin', cookie: a.cookieFor(s.id) },
  })
  t.equal(res.statusCode, 302)
  const location = new URL(String(res.headers.location))
  t.equal(location.origin + location.pathname, `${ISSUER}/logout`)
  t.equal(location.searchParams.get('id_token_hint'), 'id-token-hint')
  t.equal(location.searchParams.get('post_logout_redirect_uri'), `http://${PUBLIC_HOST}/_psc/logged-out`)
  t.match(String(res.headers['set-cookie']), /^psc_session=; Max-Age=0; Path=\//)
  t.equal(a.store.get(s.id), undefined)
  t.match(ev(a)[0], { event: 'logout', cause: 'user', session: s.ref, idNat: '810000000001' })
  t.match(ev(a)[1], { event: 'session', outcome: 'ended', reason: 'logout', session: s.ref })
  t.same(a.scopes, [
    { decision: 'allow', route: 'gateway:logout', session: s.ref, idNat: '810000000001', profession: '10' },
  ])
})

for (const [name, headers] of [
  ['cross-site', { 'sec-fetch-site': 'cross-site' }],
  ['same-site (a sibling host is not us)', { 'sec-fetch-site': 'same-site' }],
  ['without fetch metadata', {}],
] as const) {
  t.test(`logout GET ${name}: a confirmation page, the session untouched`, async (t) => {
    const a = await authApp(t)
    const s = await withSession(a)
    const res = await a.app.inject({
      url: '/_psc/logout',
      headers: { host: PUBLIC_HOST, ...headers, cookie: a.cookieFor(s.id) },
    })
    t.equal(res.statusCode, 200)
    t.match(res.body, '<title>Se déconnecter ?</title>')
    t.match(res.body, '<form method="post" action="/_psc/logout"><button type="submit">Se déconnecter</button></form>')
    t.equal(res.headers['set-cookie'], undefined)
    t.ok(a.store.get(s.id), 'still logged in')
    t.same(a.scopes, [{ decision: 'allow', route: 'gateway:logout' }])
    t.same(
      a.audit.map((e) => e.event),
      ['access'],
    )
  })
}

t.test('logout GET typed or bookmarked (Sec-Fetch-Site: none): ended at once', async (t) => {
  const a = await authApp(t)
  const s = await withSession(a)
  const res = await a.app.inject({
    url: '/_psc/logout',
    headers: { host: PUBLIC_HOST, 'sec-fetch-site': 'none', cookie: a.cookieFor(s.id) },
  })
  t.equal(res.statusCode, 302)
  t.equal(a.store.get(s.id), undefined)
})

t.test('logout POST cross-site: 403, the session untouched', async (t) => {
  const a = await authApp(t)
  const s = await withSession(a)
  const res = await a.app.inject({
    method: 'POST',
    url: '/_psc/logout',
    headers: {
      host: PUBLIC_HOST,
      origin: 'https://evil.test',
      'sec-fetch-site': 'cross-site',
      'content-type': 'application/x-www-form-urlencoded',
      cookie: a.cookieFor(s.id),
    },
    payload: '',
  })
  t.equal(res.statusCode, 403)
  t.match(res.body, 'Cette demande venait d&#39;un autre site et a été refusée pour vous protéger.')
  t.ok(a.store.get(s.id), 'still logged in')
  t.same(a.scopes, [
    {
      decision: 'reject',
      route: 'gateway:logout',
      reason: 'PSC_ERR_CROSS_SITE',
      detail: 'logout posted from https://evil.test',
    },
  ])
})

t.test('logout POST from an Origin that is not ours, without fetch metadata: 403', async (t) => {
  const a = await authApp(t)
  const s = await withSession(a)
  const res = await a.app.inject({
    method: 'POST',
    url: '/_psc/logout',
    headers: {
      host: PUBLIC_HOST,
      origin: 'http://gw.hopital.test.evil.test',
      'content-type': 'application/x-www-form-urlencoded',
      cookie: a.cookieFor(s.id),
    },
    payload: 'x=1',
  })
  t.equal(res.statusCode, 403)
  t.ok(a.store.get(s.id))
})

t.test('logout POST from the confirmation page (same origin): ended', async (t) => {
  const a = await authApp(t)
  const s = await withSession(a)
  const res = await a.app.inject({
    method: 'POST',
    url: '/_psc/logout',
    headers: {
      host: PUBLIC_HOST,
      origin: `http://${PUBLIC_HOST}`,
      'sec-fetch-site': 'same-origin',
      'content-type': 'application/x-www-form-urlencoded',
      cookie: a.cookieFor(s.id),
    },
    payload: '',
  })
  t.equal(res.statusCode, 302)
  t.equal(a.store.get(s.id), undefined)
})

t.test('logout during a store outage: cookie cleared, session ended as soon as the store answers', async (t) => {
  const a = await authApp(t)
  const s = await withSession(a)
  a.store.down = 'sync'
  const res = await a.app.inject({
    url: '/_psc/logout',
    headers: { host: PUBLIC_HOST, 'sec-fetch-site': 'same-origin', cookie: a.cookieFor(s.id) },
  })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, '/_psc/logged-out')
  t.match(String(res.headers['set-cookie']), /^psc_session=; Max-Age=0; Path=\//)
  t.equal(a.sessions.pendingEnds, 1, 'the end waits for the store')
  const detail = 'session store unavailable (connection refused (test)): the session ends when the store answers again'
  t.same(a.scopes, [{ decision: 'allow', route: 'gateway:logout', detail }])
  t.match(ev(a)[0], { event: 'logout', cause: 'user', session: s.ref, reason: detail })
  t.match(ev(a)[1], { event: 'session', outcome: 'ended', reason: 'logout', session: s.ref })
  a.store.down = false
  t.same(a.sessions.load(s.id), { kind: 'none' }, 'ended for this gateway even before the store hears of it')
  t.ok(a.store.get(s.id), 'the store still holds it until the retry')
  for (let i = 0; i < 40 && a.sessions.pendingEnds > 0; i++) await new Promise((r) => setTimeout(r, 100))
  t.equal(a.sessions.pendingEnds, 0, 'retried once the store answered')
  t.equal(a.store.get(s.id), undefined, 'deleted from the store: other replicas see it ended')
  const me = await a.app.inject({ url: '/_psc/me', headers: { host: PUBLIC_HOST, cookie: a.cookieFor(s.id) } })
  t.equal(me.statusCode, 401, 'the cookie no longer opens anything')
})

t.test('/me without a session: 401 JSON with the login path', async (t) => {
  const a = await authApp(t)
  const res = await a.app.inject({ url: '/_psc/me', headers: { host: PUBLIC_HOST } })
  t.equal(res.statusCode, 401)
  t.same(res.json(), { error: 'PSC_ERR_LOGIN_REQUIRED', login: '/_psc/login' })
  t.equal(res.headers['cache-control'], 'no-store')
  t.same(a.scopes, [{ decision: 'login', route: 'gateway:me', reason: 'PSC_ERR_LOGIN_REQUIRED' }])
})

t.test('/me while the store is down: 503, not 500', async (t) => {
  const a = await authApp(t)
  const s = await withSession(a)
  a.store.down = 'async'
  const res = await a.app.inject({
    url: '/_psc/me',
    headers: { host: PUBLIC_HOST, accept: 'application/json', cookie: a.cookieFor(s.id) },
  })
  t.equal(res.statusCode, 503)
  t.equal(res.json().error, 'PSC_ERR_STORE_UNAVAILABLE')
  t.same(a.scopes, [
    {
      decision: 'reject',
      route: 'gateway:me',
      reason: 'PSC_ERR_STORE_UNAVAILABLE',
      detail: 'connection refused (test)',
    },
  ])
})

t.test("/me with a session: 200 with the identity and the session's end", async (t) => {
  const a = await authApp(t)
  const s = await withSession(a)
  const record = a.store.get(s.id)!
  const res = await a.app.inject({ url: '/_psc/me', headers: { host: PUBLIC_HOST, cookie: a.cookieFor(s.id) } })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.same(body.identity, doctor())
  t.equal(body.authenticatedAt, new Date(record.createdAt).toISOString())
  t.equal(body.expiresAt, new Date(record.lastSeenAt + 30 * 60_000).toISOString(), 'the idle timeout comes first')
  t.notMatch(res.body, 'access-token', 'no token in the answer')
  t.same(a.scopes, [
    { decision: 'allow', route: 'gateway:me', session: s.ref, idNat: '810000000001', profession: '10' },
  ])
})
