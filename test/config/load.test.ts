import t from 'tap'
import type { ConfigError } from '../../src/config/config-error.js'
import { loadConfigFile } from '../../src/config/load.js'
import { BASE, CLIENT_SECRET, ENV, SECRET, SECRET2, brief, issuesOf, load } from './fixture.js'

t.test('a valid file resolves, with defaults', async (t) => {
  const { config, warnings } = load(BASE)
  t.same(warnings, [])
  t.equal(config.source, 'config/gateway.yaml')
  t.same(config.listen, { host: '127.0.0.1', port: 8080 })
  t.same(config.admin, { enabled: true, host: '127.0.0.1', port: 9090 })
  t.equal(config.publicUrl, 'https://dpi.example.fr')
  t.equal(config.secure, true)
  t.equal(config.prefix, '/_psc')
  t.same(config.trustedProxies, [])
  t.equal(config.psc.issuer, 'https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet')
  t.equal(
    config.psc.discoveryUrl,
    'https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet/.well-known/wallet-openid-configuration',
  )
  t.equal(config.psc.clientSecret, CLIENT_SECRET)
  t.equal(config.psc.clientAuth, 'client_secret_basic')
  t.equal(config.psc.redirectUri, 'https://dpi.example.fr/_psc/callback')
  t.equal(config.psc.postLogoutRedirectUri, 'https://dpi.example.fr/_psc/logged-out')
  t.equal(config.psc.acr, 'eidas1')
  t.equal(config.psc.scope, 'openid scope_all')
  t.equal(config.psc.httpTimeoutMs, 10_000)
  t.equal(config.psc.allowInsecureHttp, false)
  t.equal(config.session.cookieName, '__Host-psc_session')
  t.same(config.session.secrets, [SECRET])
  t.equal(config.session.idleTimeoutMs, 30 * 60_000)
  t.equal(config.session.absoluteTimeoutMs, 8 * 3_600_000)
  t.equal(config.session.loginTimeoutMs, 10 * 60_000)
  t.same(config.session.store, {
    type: 'memory',
    maxSessions: 100000,
    keyPrefix: 'psc-gateway:',
    commandTimeoutMs: 1000,
  })
  t.same(config.upstreams, {
    dpi: {
      name: 'dpi',
      url: 'http://dpi.internal:8080',
      websocket: false,
      forwardAccessToken: false,
      decodesTwice: false,
      headers: {},
    },
  })
  t.equal(config.psc.backchannelLogout, true)
  t.equal(config.psc.revalidateEveryMs, undefined)
  t.same(config.lifecycle, {
    shutdownGraceMs: 25_000,
    watchConfig: true,
    shutdownDelayMs: 0,
    workerStartTimeoutMs: 60_000,
  })
  t.equal(config.routes[1]!.match.pathPrefix, '/')
  t.equal(config.routes[0]!.match.pathPrefix, '/admin')
  t.equal(config.headers.encoding, 'percent')
  t.same(config.headers.stripPrefixes, ['X-PSC-'])
  t.equal(config.headers.requestId, 'X-Request-Id')
  t.equal(config.headers.identity.length, 10)
  t.same(config.headers.identity[0], { header: 'X-PSC-IdNat', field: 'idNat' })
  t.same(config.log, { level: 'info' })
})

t.test('resolution: http publicUrl, trailing slash, custom environment, prefix', async (t) => {
  const text = BASE.replace(
    'publicUrl: https://dpi.example.fr',
    'publicUrl: http://localhost:8080/\nprefix: /auth',
  ).replace('environment: bas', 'environment: custom\n  issuer: http://localhost:9000\n  allowInsecureHttp: true')
  const { config, warnings } = load(text)
  t.same(warnings, [])
  t.equal(config.publicUrl, 'http://localhost:8080')
  t.equal(config.secure, false)
  t.equal(config.session.cookieName, 'psc_session')
  t.equal(config.psc.issuer, 'http://localhost:9000')
  t.equal(config.psc.discoveryUrl, 'http://localhost:9000/.well-known/wallet-openid-configuration')
  t.equal(config.psc.redirectPath, '/auth/callback', 'default redirectPath follows the prefix')
  t.equal(config.psc.redirectUri, 'http://localhost:8080/auth/callback')
  t.equal(config.psc.postLogoutPath, '/auth/logged-out')
})

t.test('warning: http publicUrl on a non-loopback host', async (t) => {
  const { warnings } = load(BASE.replace('https://dpi.example.fr', 'http://dpi.example.fr'))
  t.equal(warnings.length, 1)
  t.match(warnings[0]!, /^config\/gateway\.yaml:1:12: publicUrl: publicUrl is http:\/\//)
})

t.test('identity headers: merge, remove, rename, case-insensitive', async (t) => {
  const { config } = load(`${BASE}headers:
  identity:
    X-PSC-Acr: false
    x-psc-rpps: rpps
    X-PSC-IdNat: false
    X-User-Id: idNat
`)
  const map = Object.fromEntries(config.headers.identity.map((h) => [h.header, h.field]))
  t.equal(map['X-PSC-Acr'], undefined)
  t.equal(map['X-PSC-IdNat'], undefined)
  t.equal(map['X-PSC-RPPS'], undefined, 'replaced by the lower-case spelling')
  t.equal(map['x-psc-rpps'], 'rpps')
  t.equal(map['X-User-Id'], 'idNat')
  t.equal(config.headers.identity.length, 9)

  const issues = issuesOf(`${BASE}headers:
  identity:
    X-User: idNat
    x-user: rpps
`)
  t.same(brief(issues), [
    '25:headers.identity["x-user"]: header "x-user" is the same as "X-User" (header names are case-insensitive)',
  ])
  const { warnings } = load(`${BASE}headers:\n  identity:\n    X-Nope: false\n`)
  t.match(warnings[0]!, /:24:5: headers.identity\["X-Nope"\]: "X-Nope" is not a default header/)
})

t.test('substitution', async (t) => {
  const text = BASE.replace(
    'publicUrl: https://dpi.example.fr',
    () => `publicUrl: \${PUBLIC_URL:-https://default.example.fr}
listen:
  host: \${HOST:-0.0.0.0}
  port: \${PORT:-8081}
admin:
  enabled: \${ADMIN:-false}
  port: \${ADMIN_PORT}
trustedProxies: ["$\${literal}", "a$b", "\${EMPTY:-fallback}", "pre-\${HOST:-h}-post"]`,
  )
  const { config } = load(text, { ...ENV, ADMIN_PORT: '9191', EMPTY: '' })
  t.equal(config.publicUrl, 'https://default.example.fr')
  t.same(config.listen, { host: '0.0.0.0', port: 8081 })
  t.equal(config.admin.enabled, false)
  t.equal(config.admin.port, 9191)
  t.same(config.trustedProxies, ['${literal}', 'a$b', 'fallback', 'pre-h-post'])
  const set = load(text, { ...ENV, ADMIN_PORT: '1', PORT: '3000', PUBLIC_URL: 'https://env.example.fr', ADMIN: 'true' })
  t.equal(set.config.listen.port, 3000)
  t.equal(set.config.admin.enabled, true)
  t.equal(set.config.publicUrl, 'https://env.example.fr')
  t.equal(set.config.psc.clientSecret, CLIENT_SECRET)
})

t.test('substitution: only substituted strings are coerced', async (t) => {
  const issues = issuesOf(`${BASE}listen:\n  port: "8080"\n`)
  t.same(brief(issues), ['23:listen.port: expected an integer from 0 to 65535, got "8080"'])
  const bad = issuesOf(`${BASE}listen:\n  port: \${PORT:-80x}\n`)
  t.same(brief(bad), ['23:listen.port: expected an integer from 0 to 65535, got "80x"'])
})

t.test('substitution: missing variable names the variable, file, line and key', async (t) => {
  const issues = issuesOf(BASE, { SESSION_SECRET: SECRET })
  t.equal(issues.length, 1)
  t.same(issues[0], {
    file: 'config/gateway.yaml',
    line: 5,
    column: 17,
    path: 'psc.clientSecret',
    message:
      'environment variable PSC_CLIENT_SECRET is not set: set it, or set PSC_CLIENT_SECRET_FILE to the path of a file that holds it (a Docker or Kubernetes secret), or write ${PSC_CLIENT_SECRET:-default} to give a default',
  })
  const e = t.throws(() => load(BASE, {})) as ConfigError
  t.equal(e.issues.length, 2)
  t.match(
    e.message,
    /^config\/gateway\.yaml:5:17: psc\.clientSecret: environment variable PSC_CLIENT_SECRET is not set/m,
  )
  t.match(
    e.message,
    /^config\/gateway\.yaml:8:7: session\.secrets\[0\]: environment variable SESSION_SECRET is not set/m,
  )
  t.same(brief(issuesOf(`${BASE}log:\n  level: \${bad-name}\n`)), [
    '23:log.level: invalid variable reference "${bad-name}": expected ${NAME} or ${NAME:-default} with NAME made of letters, digits and "_"',
  ])
  t.match(brief(issuesOf(`${BASE}log:\n  level: \${OOPS\n`)), ['23:log.level: unterminated "${"'])
})

t.test('YAML syntax errors have a position', async (t) => {
  const issues = issuesOf('publicUrl: https://x\npsc:\n  a: [1, 2\n  b: 3\n')
  t.ok(issues.length >= 1)
  t.match(issues[0]!, { file: 'config/gateway.yaml', path: '', message: /^YAML syntax error: / })
  t.type(issues[0]!.line, 'number')
  const dup = issuesOf(`${BASE}log: {}\nlog: {}\n`)
  t.match(dup[0]!, { line: 23, message: /unique/ })
  t.match(issuesOf('- a\n- b\n')[0]!, { line: 1, message: 'expected a YAML mapping (key: value) at the top level' })
  t.match(issuesOf('')[0]!, { message: 'expected a YAML mapping (key: value) at the top level' })
})

t.test('schema errors: all of them, sorted, with line and key path', async (t) => {
  const text = `publicUrl: https://dpi.example.fr
lisen:
  port: 80
psc:
  environment: bass
  clientSecret: \${PSC_CLIENT_SECRET}
session:
  secrets: [tooshort]
  idleTimeout: 30 minutes
upstreams:
  dpi:
    url: ftp://dpi
    websocket: "yes"
  "bad name":
    url: http://x
routes:
  - name: a
    upstream: dpi
    access: publik
  - name: b
    upstream: dpi
    match:
      methods: [get]
      pathPrefix: /x/
    access:
      professions: []
      profesions: ["10"]
  - name: c
    upstream: dpi
    access: {}
  - name: d
    upstream: dpi
    access:
      categories: [civil]
log:
  level: loud
`
  const issues = issuesOf(text)
  t.same(brief(issues), [
    '2:lisen: unknown key "lisen" (did you mean "listen"?)',
    '4:psc: missing required key "clientId"',
    '5:psc.environment: expected one of: bas, production, custom, got "bass"',
    '8:session.secrets[0]: expected at least 32 characters, got 8',
    '9:session.idleTimeout: expected a duration: a whole number and a unit, e.g. "90s", "30m", "8h", "1d", got "30 minutes"',
    '12:upstreams.dpi.url: expected an http:// or https:// URL, got "ftp://dpi"',
    '13:upstreams.dpi.websocket: expected true or false, got "yes"',
    '14:upstreams["bad name"]: invalid key "bad name": expected an upstream name made of letters, digits, "_", "." and "-"',
    '19:routes[0].access: expected one of: public, authenticated, or an object with professions/categories/specialties/idNat/structures/groups/account, got "publik"',
    '23:routes[1].match.methods[0]: expected an HTTP method in upper case, e.g. GET, got "get"',
    '24:routes[1].match.pathPrefix: expected an absolute path without a trailing slash, e.g. "/admin" (or "/" for everything), got "/x/"',
    '26:routes[1].access.professions: expected a list of at least 1 item, got an empty list',
    '27:routes[1].access.profesions: unknown key "profesions" (did you mean "professions"?)',
    '30:routes[2].access: expected at least one of: professions, categories, specialties, idNat, structures, groups, account',
    '34:routes[3].access.categories[0]: expected a category letter: C, M or E, got "civil"',
    '36:log.level: expected one of: fatal, error, warn, info, debug, trace, silent, got "loud"',
  ])
  t.equal(issues[0]!.column, 1)
  const e = t.throws(() => load(text)) as ConfigError
  t.match(e.message.split('\n')[0], 'config/gateway.yaml:2:1: lisen: unknown key "lisen" (did you mean "listen"?)')
  t.match(
    e.message,
    /^config\/gateway\.yaml:19:13: routes\[0\]\.access: expected one of: public, authenticated, or an object/m,
  )
})

t.test('missing required keys at the top level', async (t) => {
  t.same(
    brief(issuesOf('listen: {}\n')),
    [
      '-:: missing required key "publicUrl"',
      '-:: missing required key "psc"',
      '-:: missing required key "session"',
      '-:: missing required key "upstreams"',
      '-:: missing required key "routes"',
    ].map((s) => s.replace('-::', '1::')),
  )
})

t.test('cross-field checks', async (t) => {
  const text =
    BASE.replace('  environment: bas', '  environment: custom\n  issuer: http://psc.example\n  redirectPath: /callback')
      .replace(
        '    - ${SESSION_SECRET}',
        `    - \${SESSION_SECRET}\n    - ${SECRET2}\n    - \${SESSION_SECRET}\n  idleTimeout: 9h`,
      )
      .replace('    upstream: dpi\n    access:\n', '    upstream: dpo\n    access:\n') +
    `  - name: admin
    upstream: dpi
    access: public
  - name: late
    match:
      pathPrefix: /admin/x
    upstream: dpi
    access: public
`
  const issues = issuesOf(text)
  t.same(brief(issues), [
    '4:psc.issuer: an http:// issuer is refused: use https://, or set psc.allowInsecureHttp: true (local emulator only)',
    '5:psc.redirectPath: expected a path under the gateway prefix "/_psc/", got "/callback"',
    '12:session.secrets[2]: this secret is the same as session.secrets[0]; each secret must be distinct',
    '13:session.idleTimeout: absoluteTimeout (8h) must be at least idleTimeout (9h)',
    '21:routes[0].upstream: unknown upstream "dpo" (did you mean "dpi"?)',
    '27:routes[2]: route "admin" can never match: route "all" (routes[1], line 24) comes first and matches every request it would match',
    '27:routes[2].name: duplicate route name "admin" (already used by routes[0], line 18)',
    '30:routes[3]: route "late" can never match: route "admin" (routes[0], line 18) comes first and matches every request it would match',
  ])
  for (const i of issues) t.notMatch(i.message, SECRET)
})

t.test('cross-field: environment', async (t) => {
  t.same(brief(issuesOf(BASE.replace('environment: bas', 'environment: custom'))), [
    '3:psc.environment: environment "custom" requires psc.issuer (and optionally psc.discoveryUrl)',
  ])
  t.same(brief(issuesOf(BASE.replace('environment: bas', 'environment: production\n  issuer: https://x'))), [
    '4:psc.issuer: issuer is fixed by environment "production"; remove it, or use environment: custom',
  ])
  const prod = load(BASE.replace('environment: bas', 'environment: production')).config
  t.equal(prod.psc.issuer, 'https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet')
  const custom = load(
    BASE.replace(
      'environment: bas',
      'environment: custom\n  issuer: https://psc.example/realm\n  discoveryUrl: https://psc.example/d',
    ),
  ).config
  t.equal(custom.psc.discoveryUrl, 'https://psc.example/d')
})

t.test('secrets never appear in messages', async (t) => {
  const secretish = 'not-long-enough-secret-VALUE'
  const cases = [
    BASE.replace('    - ${SESSION_SECRET}', `    - ${secretish}`),
    BASE.replace('    - ${SESSION_SECRET}', `    - ${secretish}\n    - 12345678901234567`),
    BASE.replace('  clientSecret: ${PSC_CLIENT_SECRET}', '  clientSecret: 123456789'),
    BASE.replace('  clientSecret: ${PSC_CLIENT_SECRET}', `  clientSecret: [${secretish}]`),
    BASE.replace('  clientSecret: ${PSC_CLIENT_SECRET}', `  clientSecret: "${secretish}\${oops"`),
    BASE.replace('  clientSecret: ${PSC_CLIENT_SECRET}', `  clientSecret: "${secretish}\${bad name}"`),
  ]
  for (const text of cases) {
    const e = t.throws(() => load(text)) as ConfigError
    t.notMatch(e.message, secretish)
    t.notMatch(e.message, '123456789')
  }
  const dup = BASE.replace('    - ${SESSION_SECRET}', '    - ${SESSION_SECRET}\n    - ${SESSION_SECRET}')
  const e = t.throws(() => load(dup)) as ConfigError
  t.notMatch(e.message, SECRET)
  t.match(e.message, /session\.secrets\[1\]: this secret is the same as session\.secrets\[0\]/)
})

t.test('the example file loads', async (t) => {
  const { config, warnings } = loadConfigFile('config/gateway.example.yaml', {
    PSC_CLIENT_SECRET: 'example-secret',
    SESSION_SECRET: SECRET,
  })
  t.same(warnings, [])
  t.equal(config.psc.environment, 'bas')
  t.equal(config.psc.clientSecret, 'example-secret')
  t.ok(config.routes.length >= 6)
  const access = config.routes.map((r) => r.access)
  t.ok(access.includes('public') && access.includes('authenticated'))
  for (const key of ['professions', 'categories', 'specialties', 'idNat']) {
    t.ok(
      access.some((a) => typeof a === 'object' && key in a),
      key,
    )
  }
  t.ok(config.routes.some((r) => r.match.host !== undefined))
  t.ok(config.routes.some((r) => r.match.methods !== undefined))
})

t.test('a missing file', async (t) => {
  const e = t.throws(() => loadConfigFile('config/does-not-exist.yaml')) as ConfigError
  t.equal(e.message, 'config/does-not-exist.yaml: cannot read the configuration file (ENOENT)')
})

t.test('session store: redis needs a url, redis-only keys refused with memory, the url is a secret', async (t) => {
  const withStore = (store: string) =>
    BASE.replace(
      'session:\n  secrets:\n    - ${SESSION_SECRET}\n',
      `session:\n  secrets:\n    - \${SESSION_SECRET}\n  store:\n${store}`,
    )
  const redis = load(
    withStore(
      '    type: redis\n    url: redis://:pw@redis.internal:6379/2\n    keyPrefix: "gw:"\n    sentinel:\n      name: main\n      hosts: [s1:26379, "s2:26380"]\n',
    ),
  ).config
  t.same(redis.session.store, {
    type: 'redis',
    maxSessions: 100000,
    url: 'redis://:pw@redis.internal:6379/2',
    keyPrefix: 'gw:',
    commandTimeoutMs: 1000,
    sentinel: {
      name: 'main',
      hosts: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
      ],
    },
  })
  t.same(brief(issuesOf(withStore('    type: redis\n'))), [
    '10:session.store.type: store type "redis" requires session.store.url (redis://host:port/db) or session.store.sentinel',
  ])
  // Sentinel without a URL: the Sentinels name the master; nothing else is needed (Helm renders this).
  const sentinelOnly = load(
    withStore('    type: redis\n    sentinel:\n      name: mymaster\n      hosts: ["redis-sentinel:26379"]\n'),
  ).config
  t.same(sentinelOnly.session.store, {
    type: 'redis',
    maxSessions: 100000,
    keyPrefix: 'psc-gateway:',
    commandTimeoutMs: 1000,
    sentinel: { name: 'mymaster', hosts: [{ host: 'redis-sentinel', port: 26379 }] },
  })
  t.match(brief(issuesOf(withStore('    url: redis://x:6379\n'))), [
    /session\.store\.url: url applies to the redis store only/,
  ])
  const bad = issuesOf(withStore('    type: redis\n    url: http://:Secr3tRedisPw@x\n'))
  t.match(brief(bad), [/session\.store\.url/])
  t.notOk(JSON.stringify(bad).includes('Secr3tRedisPw'), 'a Redis password is never echoed')
})
