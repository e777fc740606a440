// The one description of the configuration file: TypeScript types (Static), validation (load.ts)
// and the published JSON Schema (`psc-gateway schema`) all come from these definitions.
import { Type, type Static } from '@sinclair/typebox'

const Duration = Type.String({
  pattern: '^[0-9]+(ms|s|m|h|d)$',
  description: 'A duration: a whole number and a unit, e.g. "90s", "30m", "8h", "1d"'
})

const HttpUrl = Type.String({ pattern: '^https?://[^\\s]+$', description: 'An http:// or https:// URL' })
const PathPrefix = Type.String({
  pattern: '^/([A-Za-z0-9._~!$&\'()*+,;=:@%-]+(/[A-Za-z0-9._~!$&\'()*+,;=:@%-]+)*)?$',
  description: 'An absolute path without a trailing slash, e.g. "/admin" (or "/" for everything)'
})
const HeaderName = Type.String({ pattern: '^[A-Za-z0-9-]+$', description: 'An HTTP header name (letters, digits, "-")' })
const NonEmpty = (description: string) => Type.String({ minLength: 1, description })

export const IDENTITY_FIELDS = [
  'idNat', 'rpps', 'sub', 'familyName', 'givenName', 'civility', 'acr', 'authMode',
  'professionCode', 'profession', 'category', 'specialty', 'professionCodes',
  'structureId', 'structureName', 'structureFiness'
] as const
export type IdentityField = (typeof IDENTITY_FIELDS)[number]

export const DEFAULT_IDENTITY_HEADERS: Record<string, IdentityField> = {
  'X-PSC-IdNat': 'idNat',
  'X-PSC-RPPS': 'rpps',
  'X-PSC-Family-Name': 'familyName',
  'X-PSC-Given-Name': 'givenName',
  'X-PSC-Profession-Code': 'professionCode',
  'X-PSC-Profession': 'profession',
  'X-PSC-Category': 'category',
  'X-PSC-Specialty': 'specialty',
  'X-PSC-Acr': 'acr',
  'X-PSC-Auth-Mode': 'authMode'
}

const Access = Type.Union([
  Type.Literal('public', { description: 'Anyone, logged in or not (identity headers are still stripped)' }),
  Type.Literal('authenticated', { description: 'Any practitioner logged in through PSC' }),
  Type.Object({
    professions: Type.Optional(Type.Array(NonEmpty('A TRE_G15 profession code, e.g. "10"'), { minItems: 1 })),
    categories: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Z]$', description: 'A category letter: C, M or E' }), { minItems: 1, description: 'C civil, M agent public, E étudiant' })),
    specialties: Type.Optional(Type.Array(NonEmpty('A codeSavoirFaire, e.g. "SM26"'), { minItems: 1 })),
    idNat: Type.Optional(Type.Array(NonEmpty('A national identifier'), { minItems: 1 }))
  }, {
    additionalProperties: false,
    minProperties: 1,
    description: 'Conditions, all of which must hold (fields ANDed, list values ORed). ' +
      'professions, categories and specialties must all hold for one and the same exercice.'
  })
])

const Route = Type.Object({
  name: Type.String({ pattern: '^[A-Za-z0-9_.-]+$', description: 'A unique name, shown in logs, audit and the 403 page' }),
  match: Type.Object({
    host: Type.Optional(Type.Array(NonEmpty('A host name, compared case-insensitively, without port'), { minItems: 1 })),
    pathPrefix: Type.Optional(PathPrefix),
    methods: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Z]+$', description: 'An HTTP method in upper case, e.g. GET' }), { minItems: 1 }))
  }, { additionalProperties: false, default: {} }),
  upstream: NonEmpty('The name of an upstream declared under "upstreams"'),
  access: Access
}, { additionalProperties: false })

// Signed identity assertion (proxy/assertion.ts): a short-lived JWT an upstream can verify, so that
// it can refuse any request that did not come through the gateway.
const UpstreamAssertion = Type.Object({
  header: Type.String({ ...HeaderName, default: 'X-PSC-Assertion', description: 'The request header that carries the JWT' }),
  audience: NonEmpty('The JWT "aud" claim: the name this upstream checks, e.g. "https://dpi.hopital.fr" or "dpi"'),
  ttl: Type.String({ ...Duration, default: '60s', description: 'Lifetime of a token (exp - iat); between 10s and 10m' })
}, { additionalProperties: false, description: 'Send a signed identity assertion (JWT, EdDSA or ES256) to this upstream' })

const AssertionSigning = Type.Object({
  keys: Type.Array(NonEmpty('A PKCS#8 PEM private key, Ed25519 (EdDSA) or P-256 (ES256); e.g. ${PSC_ASSERTION_KEY}, or PSC_ASSERTION_KEY_FILE=/run/secrets/...'), {
    default: [],
    description: 'Signing keys of the identity assertions: the first signs, every one is published at <prefix>/jwks.json (rotation: add the new key second, then move it first, remove the old one after the longest ttl). ' +
      'Empty: an Ed25519 key is generated at start, which suits a single replica only'
  }),
  issuer: Type.Optional(NonEmpty('The JWT "iss" claim (default: publicUrl)'))
}, { additionalProperties: false, default: {} })

const Upstream = Type.Object({
  url: HttpUrl,
  assertion: Type.Optional(UpstreamAssertion),
  websocket: Type.Boolean({ default: false, description: 'Also proxy WebSocket upgrades' }),
  timeout: Type.Optional(Duration),
  forwardAccessToken: Type.Boolean({
    default: false,
    description: 'Send the PSC access token as "Authorization: Bearer"; it is refreshed before it expires'
  }),
  headers: Type.Optional(Type.Record(HeaderName, Type.String(), {
    additionalProperties: false,
    description: 'Static headers added to every request forwarded to this upstream (e.g. a shared secret the upstream checks: X-Gateway-Secret: ${GATEWAY_SECRET}); client-sent headers of these names are removed'
  }))
}, { additionalProperties: false })

export const ConfigSchema = Type.Object({
  $schema: Type.Optional(Type.String()),
  listen: Type.Object({
    host: Type.String({ default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 })
  }, { additionalProperties: false, default: {} }),
  publicUrl: Type.String({ pattern: '^https?://[^/\\s]+/?$', description: 'The origin browsers use, e.g. https://dpi.hopital.fr (no path; a trailing "/" is ignored)' }),
  admin: Type.Object({
    enabled: Type.Boolean({ default: true }),
    host: Type.String({ default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 9090 })
  }, { additionalProperties: false, default: {} }),
  prefix: Type.String({ pattern: '^/[A-Za-z0-9_-]+$', default: '/_psc', description: 'The gateway\'s own endpoints' }),
  trustedProxies: Type.Array(Type.String(), { default: [], description: 'Addresses or CIDRs whose X-Forwarded-* headers are trusted' }),
  psc: Type.Object({
    environment: Type.Union([Type.Literal('bas'), Type.Literal('production'), Type.Literal('custom')]),
    issuer: Type.Optional(HttpUrl),
    discoveryUrl: Type.Optional(HttpUrl),
    clientId: NonEmpty('The client id ANS gave you'),
    clientSecret: NonEmpty('The client secret ANS gave you'),
    clientAuth: Type.Union([Type.Literal('client_secret_basic'), Type.Literal('client_secret_post')], { default: 'client_secret_basic' }),
    redirectPath: Type.String({ pattern: '^/', default: '/_psc/callback' }),
    postLogoutPath: Type.String({ pattern: '^/', default: '/_psc/logged-out' }),
    acr: Type.Union([Type.Literal('eidas1'), Type.Literal('eidas2'), Type.Literal('eidas3')], { default: 'eidas1' }),
    scope: Type.String({ default: 'openid scope_all' }),
    httpTimeout: Type.String({ ...Duration, default: '10s' }),
    allowInsecureHttp: Type.Boolean({ default: false, description: 'Allow an http:// issuer (the local emulator only)' }),
    revalidateEvery: Type.Optional(Type.String({
      ...Duration,
      description: 'Confirm with PSC (refresh grant) at this interval that the practitioner\'s PSC session is alive; end ours if PSC refuses'
    })),
    backchannelLogout: Type.Boolean({ default: true, description: 'Accept OpenID Connect back-channel logout at <prefix>/backchannel-logout' })
  }, { additionalProperties: false }),
  session: Type.Object({
    cookieName: Type.String({ pattern: '^[A-Za-z0-9_-]+$', default: 'psc_session' }),
    secrets: Type.Array(Type.String({ minLength: 32, description: 'At least 32 characters' }), {
      minItems: 1, description: 'The first signs new cookies; all verify (key rotation)'
    }),
    idleTimeout: Type.String({ ...Duration, default: '30m' }),
    absoluteTimeout: Type.String({ ...Duration, default: '8h' }),
    loginTimeout: Type.String({ ...Duration, default: '10m', description: 'How long a started login may take' }),
    store: Type.Object({
      type: Type.Union([Type.Literal('memory'), Type.Literal('redis')], {
        default: 'memory',
        description: 'memory: one replica (sessions are lost at restart); redis: several replicas sharing sessions'
      }),
      maxSessions: Type.Integer({ minimum: 1, default: 100000, description: 'memory store: most live sessions kept (least recently used evicted)' }),
      url: Type.Optional(Type.String({ pattern: '^rediss?://', description: 'redis store: redis://[user:password@]host:port/db (rediss:// for TLS)' })),
      keyPrefix: Type.String({ default: 'psc-gateway:', description: 'redis store: prefix of every key' }),
      commandTimeout: Type.String({ ...Duration, default: '1s', description: 'redis store: a command slower than this fails (closed)' }),
      tlsCaFile: Type.Optional(Type.String({ minLength: 1, description: 'redis store: CA bundle (PEM) for rediss://' })),
      sentinel: Type.Optional(Type.Object({
        name: NonEmpty('The Sentinel master name'),
        hosts: Type.Array(Type.String({ pattern: '^[^:\\s]+:[0-9]+$', description: 'host:port of a Sentinel' }), { minItems: 1 })
      }, { additionalProperties: false }))
    }, { additionalProperties: false, default: {} })
  }, { additionalProperties: false }),
  // additionalProperties: false, or a key that fails the key pattern would be silently accepted
  upstreams: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }), Upstream, { minProperties: 1, additionalProperties: false }),
  routes: Type.Array(Route, { minItems: 1, description: 'Ordered: the first matching rule wins' }),
  headers: Type.Object({
    identity: Type.Record(HeaderName, Type.Union([Type.Enum(Object.fromEntries(IDENTITY_FIELDS.map((f) => [f, f]))), Type.Literal(false)]), {
      default: {},
      additionalProperties: false,
      description: 'Header name → identity field; merged over the defaults; false removes a default header'
    }),
    encoding: Type.Union([Type.Literal('percent'), Type.Literal('latin1')], {
      default: 'percent',
      description: 'How non-ASCII values travel: percent-encoded UTF-8 (lossless) or ISO-8859-1 bytes'
    }),
    stripPrefixes: Type.Array(Type.String({ pattern: '^[A-Za-z0-9_-]+$' }), {
      default: ['X-PSC-'],
      description: 'Client-sent headers starting with these (any case, "_" for "-") are removed'
    }),
    requestId: Type.String({ ...HeaderName, default: 'X-Request-Id' })
  }, { additionalProperties: false, default: {} }),
  lifecycle: Type.Object({
    shutdownGrace: Type.String({ ...Duration, default: '25s', description: 'On SIGTERM, how long in-flight requests may finish' }),
    watchConfig: Type.Boolean({ default: true, description: 'Reload routes, upstreams and headers when the file changes (also on SIGHUP)' })
  }, { additionalProperties: false, default: {} }),
  limits: Type.Object({
    maxHeaderSize: Type.Integer({ minimum: 1024, maximum: 1048576, default: 16384, description: 'Largest request head (request line and headers) in bytes; larger ones get 431' }),
    headersTimeout: Type.String({ ...Duration, default: '20s', description: 'A client must send its whole request head within this time (slow clients get 408 and are disconnected)' }),
    requestTimeout: Type.String({ ...Duration, default: '120s', description: 'A client must send its whole request, body included, within this time' }),
    maxBodySize: Type.Integer({ minimum: 0, default: 104857600, description: 'Largest request body in bytes forwarded to an upstream (default 100 MiB); larger ones get 413 and are not forwarded whole; 0: no limit' }),
    rateLimit: Type.Object({
      max: Type.Integer({ minimum: 0, default: 60, description: 'Requests per window and client address on <prefix>/login and on <prefix>/callback (each counted apart); 0 disables' }),
      window: Type.String({ ...Duration, default: '1m' })
    }, { additionalProperties: false, default: {} })
  }, { additionalProperties: false, default: {} }),
  audit: Type.Object({
    stdout: Type.Boolean({ default: true, description: 'Audit events on stdout, one JSON line each, marked "log":"audit"' }),
    file: Type.Optional(Type.String({ minLength: 1, description: 'Also append audit events to this file, hash-chained (needs hmacKey); reopened on SIGUSR2 and when logrotate moves it' })),
    hmacKey: Type.Optional(Type.String({ minLength: 32, description: 'Key of the HMAC-SHA256 chain of the audit file (at least 32 characters); keep it out of the file: ${AUDIT_HMAC_KEY}' })),
    onBackpressure: Type.Union([Type.Literal('block'), Type.Literal('drop')], {
      default: 'block',
      description: 'When the audit output cannot keep up: block (requests wait, nothing is lost) or drop (events are counted and lost)'
    }),
    maxQueuedEvents: Type.Integer({ minimum: 1, default: 10000, description: 'Audit events held in memory before onBackpressure applies' }),
    includeQuery: Type.Boolean({ default: false, description: 'Write the query string of proxied requests (never for the gateway\'s own endpoints)' })
  }, { additionalProperties: false, default: {} }),
  assertion: AssertionSigning,
  log: Type.Object({
    level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' })
  }, { additionalProperties: false, default: {} })
}, { additionalProperties: false })

/** The configuration as written in YAML, after defaults are applied. */
export type RawConfig = Static<typeof ConfigSchema>
export type RouteConfig = RawConfig['routes'][number]
export type AccessConfig = RouteConfig['access']
export type UpstreamConfig = RawConfig['upstreams'][string]
