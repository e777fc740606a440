// decideRequest, table-driven: every access rule of the gateway over route, session state, request
// kind, method and host.
import t from 'tap'
import {
  decideRequest,
  type DecisionInput,
  type PscAvailability,
  type SessionState,
} from '../../src/policy/decide-request.js'
import { compileRoutes } from '../../src/policy/rules.js'
import type { AccessConfig } from '../../src/config/schema.js'
import type { Identity } from '../../src/psc/identity.js'
import type { RequestKind } from '../../src/policy/request-kind.js'

const doctor: Identity = {
  sub: 'f:x:810000000001',
  idNat: '810000000001',
  familyName: 'D',
  givenName: 'J',
  acr: 'eidas1',
  exercices: [{ professionCode: '10', professionLabel: 'Médecin', category: 'C', structures: [] }],
}
const route = (access: AccessConfig) => compileRoutes([{ name: 'r', match: {}, upstream: 'u', access }]).routes[0]!

const S = {
  none: { state: 'none' },
  expired: { state: 'expired' },
  alive: { state: 'alive', identity: doctor },
  unavailable: { state: 'unavailable' },
  revoked: { state: 'revoked' },
  stale: { state: 'tokens-stale', identity: doctor },
} satisfies Record<string, SessionState>

interface Row {
  name: string
  access?: AccessConfig | 'none'
  session: SessionState
  kind?: RequestKind
  method?: string
  onPublicHost?: boolean
  psc?: PscAvailability
  websocketEnabled?: boolean
  forwardsAccessToken?: boolean
  encodedTwice?: boolean
  expect: string
}

const rows: Row[] = [
  { name: 'no route', access: 'none', session: S.alive, expect: 'reject PSC_ERR_NO_ROUTE' },
  { name: 'public, anonymous', access: 'public', session: S.none, expect: 'allow anonymous' },
  { name: 'public, logged in: identity forwarded', access: 'public', session: S.alive, expect: 'allow 810000000001' },
  { name: 'public while the store is down', access: 'public', session: S.unavailable, expect: 'allow anonymous' },
  {
    name: 'protected while the store is down: fail closed',
    access: 'authenticated',
    session: S.unavailable,
    expect: 'reject PSC_ERR_STORE_UNAVAILABLE',
  },
  {
    name: 'navigation without session',
    access: 'authenticated',
    session: S.none,
    expect: 'login redirect login PSC_ERR_LOGIN_REQUIRED',
  },
  {
    name: 'HEAD navigation without session',
    access: 'authenticated',
    session: S.none,
    method: 'HEAD',
    expect: 'login redirect login PSC_ERR_LOGIN_REQUIRED',
  },
  {
    name: 'navigation on another host name: to the public host first',
    access: 'authenticated',
    session: S.none,
    onPublicHost: false,
    expect: 'login redirect public-host PSC_ERR_LOGIN_REQUIRED',
  },
  {
    name: 'navigation while PSC is down',
    access: 'authenticated',
    session: S.none,
    psc: 'unreachable',
    expect: 'reject PSC_ERR_PSC_UNAVAILABLE',
  },
  {
    name: "navigation while the hospital's outbound proxy is down: the proxy, not PSC",
    access: 'authenticated',
    session: S.none,
    psc: 'outbound-proxy',
    expect: 'reject PSC_ERR_OUTBOUND_PROXY_UNAVAILABLE',
  },
  {
    name: 'public route while the outbound proxy is down: served',
    access: 'public',
    session: S.none,
    psc: 'outbound-proxy',
    expect: 'allow anonymous',
  },
  {
    name: 'logged in while the outbound proxy is down: served (no call to PSC)',
    access: 'authenticated',
    session: S.alive,
    psc: 'outbound-proxy',
    expect: 'allow 810000000001',
  },
  {
    name: 'favicon / image / XHR: 401, no login started',
    access: 'authenticated',
    session: S.none,
    kind: 'subresource',
    expect: 'login status login PSC_ERR_LOGIN_REQUIRED',
  },
  {
    name: 'XHR while PSC is down still 401',
    access: 'authenticated',
    session: S.none,
    kind: 'subresource',
    psc: 'unreachable',
    expect: 'login status login PSC_ERR_LOGIN_REQUIRED',
  },
  {
    name: 'form posted on an expired session: data lost, said so',
    access: 'authenticated',
    session: S.expired,
    method: 'POST',
    expect: 'login status login PSC_ERR_LOGIN_REQUIRED_FORM_LOST',
  },
  {
    name: 'form posted without session',
    access: 'authenticated',
    session: S.none,
    method: 'POST',
    expect: 'login status login PSC_ERR_LOGIN_REQUIRED_FORM_LOST',
  },
  {
    name: 'API POST without session',
    access: 'authenticated',
    session: S.none,
    method: 'POST',
    kind: 'subresource',
    expect: 'login status login PSC_ERR_LOGIN_REQUIRED',
  },
  {
    name: 'revoked by PSC: login again',
    access: 'authenticated',
    session: S.revoked,
    expect: 'login redirect login PSC_ERR_LOGIN_REQUIRED',
  },
  {
    name: 'revoked by PSC on a public route: anonymous',
    access: 'public',
    session: S.revoked,
    expect: 'allow anonymous',
  },
  { name: 'alive and allowed', access: { professions: ['10'] }, session: S.alive, expect: 'allow 810000000001' },
  {
    name: 'alive and refused',
    access: { professions: ['21'] },
    session: S.alive,
    expect: 'deny PSC_ERR_DENIED_PROFESSION',
  },
  {
    name: 'tokens not renewed, upstream needs the token',
    access: 'authenticated',
    session: S.stale,
    forwardsAccessToken: true,
    expect: 'reject PSC_ERR_TOKEN_NOT_RENEWED',
  },
  {
    name: 'tokens not renewed, re-validation only: session kept',
    access: 'authenticated',
    session: S.stale,
    expect: 'allow 810000000001',
  },
  {
    name: 'WebSocket to an upstream without it',
    access: 'public',
    session: S.alive,
    kind: 'websocket',
    expect: 'reject PSC_ERR_WEBSOCKET_DISABLED',
  },
  {
    name: 'WebSocket allowed',
    access: 'authenticated',
    session: S.alive,
    kind: 'websocket',
    websocketEnabled: true,
    expect: 'allow 810000000001',
  },
  {
    name: 'WebSocket without session: 401, never a redirect',
    access: 'authenticated',
    session: S.none,
    kind: 'websocket',
    websocketEnabled: true,
    expect: 'login status login PSC_ERR_LOGIN_REQUIRED',
  },
  {
    name: 'an upstream that decodes twice, a path encoded twice: refused, logged in or not',
    access: 'authenticated',
    session: S.alive,
    encodedTwice: true,
    expect: 'reject PSC_ERR_DOUBLE_ENCODED_TARGET',
  },
  {
    name: 'the same on a public route',
    access: 'public',
    session: S.none,
    encodedTwice: true,
    expect: 'reject PSC_ERR_DOUBLE_ENCODED_TARGET',
  },
]

function summary(o: ReturnType<typeof decideRequest>): string {
  switch (o.kind) {
    case 'allow':
      return `allow ${o.identity?.idNat ?? 'anonymous'}`
    case 'login':
      return `login ${o.via} ${o.to} ${o.code}`
    default:
      return `${o.kind} ${o.code}`
  }
}

t.test('the decision table', async (t) => {
  for (const row of rows) {
    const input: DecisionInput = {
      route: row.access === 'none' ? undefined : route(row.access ?? 'authenticated'),
      websocketEnabled: row.websocketEnabled ?? false,
      forwardsAccessToken: row.forwardsAccessToken ?? false,
      session: row.session,
      request: {
        method: row.method ?? 'GET',
        kind: row.kind ?? 'navigation',
        onPublicHost: row.onPublicHost ?? true,
        encodedTwiceForUpstream: row.encodedTwice ?? false,
      },
      psc: row.psc ?? 'ready',
    }
    t.equal(summary(decideRequest(input)), row.expect, row.name)
  }
})

t.test('outcomes are frozen and shared where they carry nothing of the request', async (t) => {
  const input: DecisionInput = {
    route: route('authenticated'),
    websocketEnabled: false,
    forwardsAccessToken: false,
    session: S.none,
    request: { method: 'GET', kind: 'navigation', onPublicHost: true },
    psc: 'ready',
  }
  const a = decideRequest(input)
  t.equal(a, decideRequest(input), 'no allocation for a login outcome')
  t.ok(Object.isFrozen(a))
})
