// The access gate as an executor: for each session state it reads (or is told by the token keeper),
// the one scope it writes, the answer it gives, and the audit events of an ended session. Fastify's
// inject, the memory session store, a capturing audit trail; no emulator, no upstream.
import fastifyCookie from '@fastify/cookie'
import Fastify, { type FastifyInstance } from 'fastify'
import t from 'tap'
import type { AuditEvent } from '../src/audit/events.js'
import type { PscClient } from '../src/oidc/psc-client.js'
import type { Freshness, TokenKeeper } from '../src/oidc/token-keeper.js'
import { createAccessGate } from '../src/gate.js'
import { compileRoutes } from '../src/policy/rules.js'
import { compileForwardingRules } from '../src/proxy/forwarding-rules.js'
import { setScope, type RequestScope } from '../src/scope.js'
import { sessionReference } from '../src/session/ids.js'
import { SessionManager } from '../src/session/manager.js'
import type { SessionRecord, SessionStore } from '../src/session/store.js'
import {
  captureAudit,
  doctor,
  FlakyStore,
  PUBLIC_HOST,
  sessionFields,
  unitConfig,
  UNIT_SECRET,
} from './helpers/unit.js'

const NAV = { host: PUBLIC_HOST, 'sec-fetch-mode': 'navigate', accept: 'text/html' }

interface FakeTokens {
  due: boolean
  result: Freshness | undefined
  calls: number
}

interface GateApp {
  app: FastifyInstance
  sessions: SessionManager
  store: FlakyStore
  audit: AuditEvent[]
  scopes: RequestScope[]
  /** per request: whether the gate called done() before it returned (no promise on the way) */
  synchronous: boolean[]
  /** per request reaching the handler: the error of a second setScope */
  secondWrite: string[]
  tokens: FakeTokens
  clock: { now: number }
  cookieFor(id: string): string
}

async function gateApp(o: { pscReady?: boolean; store?: FlakyStore } = {}): Promise<GateApp> {
  const config = unitConfig()
  const clock = { now: Date.now() }
  const now = () => clock.now
  const store = o.store ?? new FlakyStore()
  const sessions = new SessionManager(store as SessionStore, config.session, now)
  const { events, trail } = captureAudit()
  const tokens: FakeTokens = { due: false, result: undefined, calls: 0 }
  const keeper = {
    needsRefresh: () => tokens.due,
    refresh: async () => {
      tokens.calls++
      return tokens.result!
    },
    refreshAccountInBackground: () => {},
  } as unknown as TokenKeeper
  const psc = {
    configuration: o.pscReady === false ? undefined : {},
    availability: o.pscReady === false ? 'unreachable' : 'ready',
    status: { ready: o.pscReady !== false, since: 0 },
  } as unknown as PscClient
  const state = { config, routes: compileRoutes(config.routes), forwarding: compileForwardingRules(config) }
  const gate = createAccessGate({ config, state: () => state, sessions, tokens: keeper, psc, audit: trail })

  const app = Fastify()
  app.decorateRequest('pscScope', null)
  await app.register(fastifyCookie, { secret: [UNIT_SECRET], hook: false })
  const scopes: RequestScope[] = []
  const synchronous: boolean[] = []
  const secondWrite: string[] = []
  app.addHook('onRequest', (request, reply, done) => {
    let called = false
    gate(request, reply, (err?: Error) => {
      called = true
      done(err)
    })
    synchronous.push(called)
  })
  app.addHook('onResponse', (request, reply, done) => {
    if (request.pscScope !== null) scopes.push(request.pscScope)
    void trail.finish(request, {
      status: reply.statusCode,
      durationMs: 0,
      access: request.pscScope ?? { decision: 'reject' },
    })
    done()
  })
  // Stands in for the proxy: an allowed request reaches it with its scope.
  app.all('/*', async (request) => {
    try {
      setScope(request, { decision: 'deny' })
    } catch (err) {
      secondWrite.push((err as Error).message)
    }
    const target = request.pscScope?.target
    return {
      forwarded: true,
      upstream: target?.upstream.name,
      idNat: target?.identity?.idNat ?? null,
      accessToken: target?.accessToken ?? null,
    }
  })
  await app.ready()
  return {
    app,
    sessions,
    store,
    audit: events,
    scopes,
    synchronous,
    secondWrite,
    tokens,
    clock,
    cookieFor: (id) => `psc_session=${app.signCookie(id)}`,
  }
}

async function login(
  g: GateApp,
  over: Partial<SessionRecord> = {},
): Promise<{ id: string; record: SessionRecord; ref: string }> {
  const { id, record } = await g.sessions.create(sessionFields(doctor(), over))
  return { id, record, ref: sessionReference(id) }
}

t.test('no cookie, protected navigation: 302 to the login with the path, scope login', async (t) => {
  const g = await gateApp()
  const res = await g.app.inject({ url: '/dossiers/recherche?q=jean%20dupont', headers: NAV })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, '/_psc/login?rd=%2Fdossiers%2Frecherche%3Fq%3Djean%2520dupont')
  t.equal(res.headers['cache-control'], 'no-store')
  t.same(g.scopes, [{ decision: 'login', route: 'application', reason: 'PSC_ERR_LOGIN_REQUIRED', detail: undefined }])
  t.ok(Object.isFrozen(g.scopes[0]), 'the scope is frozen')
  t.same(g.synchronous, [true], 'no promise on the memory-store path')
  t.same(
    g.audit.map((e) => e.event),
    ['access'],
  )
})

t.test('no cookie on another host name: sent to the same page on the public host first', async (t) => {
  const g = await gateApp()
  const res = await g.app.inject({
    url: '/dossiers/42?x=1',
    headers: { ...NAV, host: 'gw-internal.hopital.test:8080' },
  })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, `http://${PUBLIC_HOST}/dossiers/42?x=1`)
  t.equal(g.scopes[0]?.decision, 'login')
  t.equal(g.scopes[0]?.reason, 'PSC_ERR_LOGIN_REQUIRED')
})

t.test('no cookie, XHR: 401 JSON with the login link, no redirect', async (t) => {
  const g = await gateApp()
  const res = await g.app.inject({
    url: '/dossiers/42',
    headers: { host: PUBLIC_HOST, accept: 'application/json', 'x-requested-with': 'XMLHttpRequest' },
  })
  t.equal(res.statusCode, 401)
  t.equal(res.headers.location, undefined)
  const body = res.json()
  t.equal(body.error, 'PSC_ERR_LOGIN_REQUIRED')
  t.equal(body.login, '/_psc/login?rd=%2Fdossiers%2F42')
})

t.test('no cookie, form posted: 401 French page saying the data was not sent', async (t) => {
  const g = await gateApp()
  const res = await g.app.inject({
    method: 'POST',
    url: '/dossiers/42',
    headers: { ...NAV, 'content-type': 'text/plain' },
    payload: 'x',
  })
  t.equal(res.statusCode, 401)
  t.match(res.body, 'les informations que vous venez d&#39;envoyer n&#39;ont pas été transmises')
  t.equal(g.scopes[0]?.reason, 'PSC_ERR_LOGIN_REQUIRED_FORM_LOST')
})

t.test('PSC not ready: a navigation gets the 503 page, not a redirect', async (t) => {
  const g = await gateApp({ pscReady: false })
  const res = await g.app.inject({ url: '/dossiers', headers: NAV })
  t.equal(res.statusCode, 503)
  t.match(res.body, 'La connexion à Pro Santé Connect n&#39;est pas possible pour le moment.')
  t.same(g.scopes, [{ decision: 'reject', route: 'application', reason: 'PSC_ERR_PSC_UNAVAILABLE', detail: undefined }])
})

t.test('nothing under the reserved prefix is forwarded: 404, no route', async (t) => {
  const g = await gateApp()
  const res = await g.app.inject({ url: '/_psc/anything', headers: NAV })
  t.equal(res.statusCode, 404)
  t.match(res.body, 'Aucune application n&#39;est publiée à cette adresse.')
  t.same(g.scopes, [{ decision: 'reject', route: undefined, reason: 'PSC_ERR_NO_ROUTE', detail: undefined }])
})

t.test('invalid cookie: cookie cleared, treated as no session, the problem in the detail', async (t) => {
  const g = await gateApp()
  const res = await g.app.inject({ url: '/dossiers', headers: { ...NAV, cookie: 'psc_session=forged.value' } })
  t.equal(res.statusCode, 302)
  t.match(String(res.headers['set-cookie']), /^psc_session=; Max-Age=0; Path=\/;/)
  t.same(g.scopes, [
    {
      decision: 'login',
      route: 'application',
      reason: 'PSC_ERR_LOGIN_REQUIRED',
      detail: 'bad session cookie signature',
    },
  ])
})

t.test('alive session: allowed, identity and session in the scope, no cookie set, synchronous', async (t) => {
  const g = await gateApp()
  const s = await login(g)
  const res = await g.app.inject({ url: '/dossiers', headers: { ...NAV, cookie: g.cookieFor(s.id) } })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { forwarded: true, upstream: 'app', idNat: '810000000001', accessToken: null })
  t.equal(res.headers['set-cookie'], undefined)
  const scope = g.scopes[0]!
  t.equal(scope.decision, 'allow')
  t.equal(scope.route, 'application')
  t.equal(scope.session, s.ref)
  t.equal(scope.idNat, '810000000001')
  t.equal(scope.profession, '10')
  t.equal(scope.reason, undefined)
  t.equal(scope.target?.upstream.name, 'app')
  t.equal(scope.target?.accessToken, undefined, 'the app upstream does not receive the access token')
  t.ok(Object.isFrozen(scope))
  t.same(g.synchronous, [true], 'memory store, no refresh: done() before the gate returned')
  t.same(g.secondWrite, ['request scope written twice'], 'a second setScope throws')
  t.equal(g.tokens.calls, 0)
})

t.test('alive session on an upstream with forwardAccessToken: the token is in the target', async (t) => {
  const g = await gateApp()
  const s = await login(g)
  const res = await g.app.inject({ url: '/api/v1/x', headers: { ...NAV, cookie: g.cookieFor(s.id) } })
  t.same(res.json(), { forwarded: true, upstream: 'api', idNat: '810000000001', accessToken: 'access-token-1' })
})

t.test(
  'alive session refused by the route: 403 French page with the reason in words, technical detail in the scope',
  async (t) => {
    const g = await gateApp()
    const s = await login(g)
    const res = await g.app.inject({ url: '/pharmacie/stock', headers: { ...NAV, cookie: g.cookieFor(s.id) } })
    t.equal(res.statusCode, 403)
    t.match(res.body, 'Cette page est réservée aux professions suivantes : ')
    t.match(res.body, 'Votre profil Pro Santé Connect : ')
    t.notMatch(res.body, 'not in [21]', 'no technical detail in the page')
    t.match(res.body, 'href="/_psc/logout"')
    t.same(g.scopes, [
      {
        decision: 'deny',
        route: 'pharmacie',
        session: s.ref,
        idNat: '810000000001',
        profession: '10',
        reason: 'PSC_ERR_DENIED_PROFESSION',
        detail: 'profession 10 not in [21]',
      },
    ])
    const access = g.audit.find((e) => e.event === 'access') as Record<string, unknown>
    t.equal(access.decision, 'deny')
    t.equal(access.reason, 'PSC_ERR_DENIED_PROFESSION')
    t.equal(access.detail, 'profession 10 not in [21]')
  },
)

t.test('expired session: cookie cleared, logout + session-ended audited, login asked', async (t) => {
  const g = await gateApp()
  const s = await login(g)
  g.clock.now += 31 * 60_000 // past the 30 minutes idle timeout
  const res = await g.app.inject({ url: '/dossiers', headers: { ...NAV, cookie: g.cookieFor(s.id) } })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, '/_psc/login?rd=%2Fdossiers&expired=1', 'the login page is told the session expired')
  t.match(String(res.headers['set-cookie']), /^psc_session=; Max-Age=0; Path=\//)
  t.same(g.scopes, [{ decision: 'login', route: 'application', reason: 'PSC_ERR_LOGIN_REQUIRED', detail: undefined }])
  const events = g.audit.map((e) => e as unknown as Record<string, unknown>)
  t.match(events[0], { event: 'logout', cause: 'idle-expired', session: s.ref })
  t.match(events[1], { event: 'session', outcome: 'ended', reason: 'idle-expired', session: s.ref })
  t.match(events[2], { event: 'access', decision: 'login', reason: 'PSC_ERR_LOGIN_REQUIRED', session: s.ref })
  t.equal(events.length, 3)
  t.equal(g.store.get(s.id), undefined, 'the ended session is deleted from the store')
})

t.test('expired session, form posted: 401 form-lost', async (t) => {
  const g = await gateApp()
  const s = await login(g)
  g.clock.now += 9 * 3600_000 // past the 8 h absolute timeout
  const res = await g.app.inject({
    method: 'POST',
    url: '/dossiers',
    headers: { ...NAV, cookie: g.cookieFor(s.id), 'content-type': 'text/plain' },
    payload: 'x',
  })
  t.equal(res.statusCode, 401)
  t.equal(g.scopes[0]?.reason, 'PSC_ERR_LOGIN_REQUIRED_FORM_LOST')
  t.match(g.audit[0] as object, { event: 'logout', cause: 'absolute-expired' })
})

t.test('expired session, script (JSON): 401 that says the session expired', async (t) => {
  const g = await gateApp()
  const s = await login(g)
  g.clock.now += 31 * 60_000
  const res = await g.app.inject({
    url: '/dossiers',
    headers: { accept: 'application/json', 'x-requested-with': 'XMLHttpRequest', cookie: g.cookieFor(s.id) },
  })
  t.equal(res.statusCode, 401)
  t.match(res.json(), { error: 'PSC_ERR_LOGIN_REQUIRED', session: 'expired', message: /Votre session a expiré/ })
  const never = await g.app.inject({
    url: '/dossiers',
    headers: { accept: 'application/json', 'x-requested-with': 'XMLHttpRequest' },
  })
  t.equal(never.json().session, undefined, 'no session at all: nothing expired')
})

for (const mode of ['sync', 'async'] as const) {
  t.test(`store unavailable (${mode}): protected route 503, public route allowed anonymously`, async (t) => {
    const g = await gateApp()
    const s = await login(g)
    g.store.down = mode
    const res = await g.app.inject({ url: '/dossiers', headers: { ...NAV, cookie: g.cookieFor(s.id) } })
    t.equal(res.statusCode, 503)
    t.match(res.body, 'Les sessions ne peuvent pas être vérifiées pour le moment.')
    t.notMatch(res.body, 'connection refused')
    t.same(g.scopes[0], {
      decision: 'reject',
      route: 'application',
      reason: 'PSC_ERR_STORE_UNAVAILABLE',
      detail: 'session store unavailable: connection refused (test)',
    })
    const pub = await g.app.inject({ url: '/public/info', headers: { ...NAV, cookie: g.cookieFor(s.id) } })
    t.equal(pub.statusCode, 200)
    t.same(pub.json(), { forwarded: true, upstream: 'app', idNat: null, accessToken: null })
    t.equal(g.scopes[1]?.decision, 'allow')
    t.equal(g.scopes[1]?.session, undefined)
    t.equal(g.scopes[1]?.idNat, undefined)
    t.same(g.synchronous, mode === 'sync' ? [true, true] : [false, false])
  })
}

t.test('duplicated session cookie: refused with its page, cookie cleared, public route still anonymous', async (t) => {
  const g = await gateApp()
  const s = await login(g)
  const cookie = `${g.cookieFor(s.id)}; other=1; ${g.cookieFor(s.id)}`
  const res = await g.app.inject({ url: '/dossiers', headers: { ...NAV, cookie } })
  t.equal(res.statusCode, 400)
  t.match(res.body, 'Votre navigateur a envoyé deux cookies de session pour ce site')
  t.match(String(res.headers['set-cookie']), /^psc_session=; Max-Age=0/)
  t.same(g.scopes[0], {
    decision: 'reject',
    route: 'application',
    reason: 'PSC_ERR_DUPLICATE_SESSION_COOKIE',
    detail: 'session cookie sent twice',
  })
  const pub = await g.app.inject({ url: '/public/x', headers: { ...NAV, cookie } })
  t.equal(pub.statusCode, 200)
  t.same(pub.json().idNat, null, 'neither cookie is believed')
})

t.test('token refresh: fresh (refreshed) → allowed with the new token, refresh audited', async (t) => {
  const g = await gateApp()
  const s = await login(g)
  g.tokens.due = true
  g.tokens.result = { kind: 'fresh', record: { ...s.record, accessToken: 'access-token-2' }, refreshed: true }
  const res = await g.app.inject({ url: '/api/data', headers: { ...NAV, cookie: g.cookieFor(s.id) } })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { forwarded: true, upstream: 'api', idNat: '810000000001', accessToken: 'access-token-2' })
  t.equal(g.tokens.calls, 1)
  t.same(g.synchronous, [false], 'a refresh waits')
  t.match(g.audit[0] as object, {
    event: 'session',
    outcome: 'refreshed',
    session: s.ref,
    idNat: '810000000001',
    profession: '10',
  })
  t.equal(g.scopes[0]?.decision, 'allow')
  t.equal(g.scopes[0]?.session, s.ref)
})

t.test('token refresh: fresh but done by another request → no refresh event', async (t) => {
  const g = await gateApp()
  const s = await login(g)
  g.tokens.due = true
  g.tokens.result = { kind: 'fresh', record: { ...s.record, accessToken: 'access-token-3' }, refreshed: false }
  const res = await g.app.inject({ url: '/api/data', headers: { ...NAV, cookie: g.cookieFor(s.id) } })
  t.equal(res.json().accessToken, 'access-token-3')
  t.same(
    g.audit.map((e) => e.event),
    ['access'],
  )
})

t.test(
  'token refresh: revoked → session ended in the store, cookie cleared, logout audited, login asked',
  async (t) => {
    const g = await gateApp()
    const s = await login(g)
    g.tokens.due = true
    g.tokens.result = { kind: 'revoked', reason: 'PSC refused the refresh: invalid_grant' }
    const res = await g.app.inject({ url: '/dossiers', headers: { ...NAV, cookie: g.cookieFor(s.id) } })
    t.equal(res.statusCode, 302)
    t.equal(res.headers.location, '/_psc/login?rd=%2Fdossiers')
    t.match(String(res.headers['set-cookie']), /^psc_session=; Max-Age=0/)
    t.equal(g.store.get(s.id), undefined, 'the session is gone from the store')
    t.same(g.scopes[0], {
      decision: 'login',
      route: 'application',
      reason: 'PSC_ERR_LOGIN_REQUIRED',
      detail: 'session revoked by PSC: PSC refused the refresh: invalid_grant',
    })
    t.match(g.audit[0] as object, {
      event: 'logout',
      cause: 'revoked',
      reason: 'PSC refused the refresh: invalid_grant',
      session: s.ref,
      idNat: '810000000001',
    })
    t.match(g.audit[1] as object, { event: 'session', outcome: 'ended', reason: 'revoked', session: s.ref })
  },
)

t.test('token refresh: unavailable → 503 where the access token is needed, session kept', async (t) => {
  const g = await gateApp()
  const s = await login(g)
  g.tokens.due = true
  g.tokens.result = { kind: 'unavailable', reason: 'PSC unreachable' }
  const res = await g.app.inject({ url: '/api/data', headers: { ...NAV, cookie: g.cookieFor(s.id) } })
  t.equal(res.statusCode, 503)
  t.match(
    res.body,
    'Votre session est conservée, mais Pro Santé Connect n&#39;a pas pu confirmer vos droits pour cette application.',
  )
  t.same(g.scopes[0], {
    decision: 'reject',
    route: 'api',
    session: s.ref,
    idNat: '810000000001',
    profession: '10',
    reason: 'PSC_ERR_TOKEN_NOT_RENEWED',
    detail: 'tokens not renewed: PSC unreachable',
  })
  t.equal(res.headers['set-cookie'], undefined, 'the cookie is kept')
  t.ok(g.store.get(s.id), 'the session is kept')
})

t.test('token refresh: unavailable → re-validation only: allowed with the session', async (t) => {
  const g = await gateApp()
  const s = await login(g)
  g.tokens.due = true
  g.tokens.result = { kind: 'unavailable', reason: 'PSC unreachable' }
  const res = await g.app.inject({ url: '/dossiers', headers: { ...NAV, cookie: g.cookieFor(s.id) } })
  t.equal(res.statusCode, 200)
  t.equal(res.json().idNat, '810000000001')
  t.equal(g.scopes[0]?.decision, 'allow')
  t.equal(g.scopes[0]?.session, s.ref)
})

t.test(
  'token refresh: revoked while the store stops answering → login asked, the session ended when the store answers',
  async (t) => {
    const g = await gateApp()
    const s = await login(g)
    g.tokens.due = true
    g.tokens.result = { kind: 'revoked', reason: 'PSC refused the refresh: invalid_grant' }
    // The store answered the read, then went away during the call to PSC.
    const refresh = g.tokens
    const keeper = { result: refresh.result }
    Object.defineProperty(g.tokens, 'result', {
      get: () => {
        g.store.down = 'sync'
        return keeper.result
      },
    })
    const res = await g.app.inject({ url: '/dossiers', headers: { ...NAV, cookie: g.cookieFor(s.id) } })
    t.equal(res.statusCode, 302, 'not a 500')
    t.equal(res.headers.location, '/_psc/login?rd=%2Fdossiers')
    t.match(String(res.headers['set-cookie']), /^psc_session=; Max-Age=0/)
    t.equal(g.sessions.pendingEnds, 1, 'the end waits for the store')
    t.same(g.scopes[0], {
      decision: 'login',
      route: 'application',
      reason: 'PSC_ERR_LOGIN_REQUIRED',
      detail: 'session revoked by PSC: PSC refused the refresh: invalid_grant',
    })
    g.store.down = false
    t.same(g.sessions.load(s.id), { kind: 'none' }, 'ended for this gateway at once')
    g.sessions.stop()
  },
)

t.test('setScope: frozen, and a second write throws', async (t) => {
  const request: { pscScope: RequestScope | null } = { pscScope: null }
  setScope(request, { decision: 'allow', route: 'r' })
  t.ok(Object.isFrozen(request.pscScope))
  t.throws(() => setScope(request, { decision: 'deny' }), { message: 'request scope written twice' })
  t.equal(request.pscScope?.decision, 'allow', 'the first write stands')
})
