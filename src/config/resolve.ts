// Checks that involve several keys, then the resolution of the validated YAML into the
// GatewayConfig the rest of the gateway reads (durations in ms, absolute URLs, PSC endpoints).
import { DEFAULT_IDENTITY_HEADERS, type IdentityField, type RawConfig, type RouteConfig } from './schema.js'
import type { GatewayConfig, IdentityHeader, UpstreamSettings } from './types.js'
import { parseDuration } from './duration.js'
import { closest, type RawIssue } from './validate.js'
import { locate, type ParsedSource } from './yamlSource.js'
import { PSC_ENVIRONMENTS, discoveryUrlFor } from '../psc/environments.js'
import { checkAssertionKeys, resolveUpstreamAssertion } from './assertion.js'

export interface Resolution {
  config?: GatewayConfig
  issues: RawIssue[]
  warnings: RawIssue[]
}

/** Which optional keys the integrator wrote (the others got schema defaults). */
export interface Written { redirectPath: boolean; postLogoutPath: boolean }

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

function isCatchAllOrCovers (a: RouteConfig, b: RouteConfig): boolean {
  // a shadows b when every request b matches is matched by a first.
  const aHosts = a.match.host?.map((h) => h.toLowerCase())
  if (aHosts !== undefined) {
    if (b.match.host === undefined) return false
    if (!b.match.host.every((h) => aHosts.includes(h.toLowerCase()))) return false
  }
  if (a.match.methods !== undefined) {
    if (b.match.methods === undefined) return false
    const am = new Set(a.match.methods)
    if (!b.match.methods.every((m) => am.has(m) || (m === 'HEAD' && am.has('GET')))) return false
  }
  const ap = a.match.pathPrefix ?? '/'
  const bp = b.match.pathPrefix ?? '/'
  return ap === '/' || bp === ap || bp.startsWith(ap + '/')
}

export function resolveConfig (raw: RawConfig, src: ParsedSource, written: Written): Resolution {
  const issues: RawIssue[] = []
  const warnings: RawIssue[] = []
  const err = (path: string[], message: string, atKey = false): void => { issues.push({ segments: path, message, atKey }) }
  const line = (path: string[]): string => {
    const p = locate(src, path)
    return p === undefined ? '' : `, line ${p.line}`
  }

  // publicUrl
  let publicUrl: URL | undefined
  try {
    publicUrl = new URL(raw.publicUrl)
  } catch {
    err(['publicUrl'], `expected an origin like https://dpi.hopital.fr, got ${JSON.stringify(raw.publicUrl)}`)
  }
  if (publicUrl !== undefined && publicUrl.protocol === 'http:' && !LOOPBACK.has(publicUrl.hostname)) {
    warnings.push({
      segments: ['publicUrl'],
      message: 'publicUrl is http:// on a non-loopback host: session cookies will travel in clear and lose the __Host- prefix; use https:// in production'
    })
  }

  // psc
  const psc = raw.psc
  let issuer: string
  let discoveryUrl: string
  if (psc.environment === 'custom') {
    if (psc.issuer === undefined) {
      err(['psc', 'environment'], 'environment "custom" requires psc.issuer (and optionally psc.discoveryUrl)')
    }
    issuer = psc.issuer ?? ''
    discoveryUrl = psc.discoveryUrl ?? discoveryUrlFor(issuer)
  } else {
    for (const key of ['issuer', 'discoveryUrl'] as const) {
      if (psc[key] !== undefined) {
        err(['psc', key], `${key} is fixed by environment "${psc.environment}"; remove it, or use environment: custom`)
      }
    }
    issuer = PSC_ENVIRONMENTS[psc.environment].issuer
    discoveryUrl = PSC_ENVIRONMENTS[psc.environment].discoveryUrl
  }
  for (const key of ['issuer', 'discoveryUrl'] as const) {
    const url = psc[key]
    if (url === undefined) continue
    let parsed: URL | undefined
    try { parsed = new URL(url) } catch { err(['psc', key], `not a valid URL: ${JSON.stringify(url)}`) }
    if (parsed?.protocol === 'http:' && !psc.allowInsecureHttp) {
      err(['psc', key], `an http:// ${key} is refused: use https://, or set psc.allowInsecureHttp: true (local emulator only)`)
    }
  }

  const prefix = raw.prefix
  const redirectPath = written.redirectPath ? psc.redirectPath : `${prefix}/callback`
  const postLogoutPath = written.postLogoutPath ? psc.postLogoutPath : `${prefix}/logged-out`
  for (const [key, value] of [['redirectPath', redirectPath], ['postLogoutPath', postLogoutPath]] as const) {
    if (!value.startsWith(prefix + '/') || value.length === prefix.length + 1) {
      err(['psc', key], `expected a path under the gateway prefix "${prefix}/", got ${JSON.stringify(value)}`)
    }
  }

  // durations
  const ms = (path: string[], text: string): number => {
    const v = parseDuration(text)
    if (v === 0) err(path, 'expected a duration greater than zero, got ' + JSON.stringify(text))
    return v
  }
  const httpTimeoutMs = ms(['psc', 'httpTimeout'], psc.httpTimeout)
  const s = raw.session
  const idleTimeoutMs = ms(['session', 'idleTimeout'], s.idleTimeout)
  const absoluteTimeoutMs = ms(['session', 'absoluteTimeout'], s.absoluteTimeout)
  const loginTimeoutMs = ms(['session', 'loginTimeout'], s.loginTimeout)
  if (absoluteTimeoutMs < idleTimeoutMs) {
    const at = src.doc.hasIn(['session', 'absoluteTimeout']) ? 'absoluteTimeout' : 'idleTimeout'
    err(['session', at], `absoluteTimeout (${s.absoluteTimeout}) must be at least idleTimeout (${s.idleTimeout})`)
  }

  // session store
  const store = s.store
  const storeSettings: GatewayConfig['session']['store'] = {
    type: store.type,
    maxSessions: store.maxSessions,
    keyPrefix: store.keyPrefix,
    commandTimeoutMs: ms(['session', 'store', 'commandTimeout'], store.commandTimeout)
  }
  if (store.type === 'redis') {
    if (store.url === undefined) err(['session', 'store', 'type'], 'store type "redis" requires session.store.url (redis://host:port/db)')
    storeSettings.url = store.url
    storeSettings.tlsCaFile = store.tlsCaFile
    if (store.sentinel) {
      storeSettings.sentinel = {
        name: store.sentinel.name,
        hosts: store.sentinel.hosts.map((h) => ({ host: h.slice(0, h.lastIndexOf(':')), port: Number(h.slice(h.lastIndexOf(':') + 1)) }))
      }
    }
  } else {
    for (const key of ['url', 'tlsCaFile', 'sentinel'] as const) {
      if (store[key] !== undefined) err(['session', 'store', key], `${key} applies to the redis store only; set type: redis or remove it`)
    }
  }
  // limits: Node refuses a headers timeout longer than the request timeout
  const lim = raw.limits
  const limits: GatewayConfig['limits'] = {
    maxHeaderSize: lim.maxHeaderSize,
    headersTimeoutMs: ms(['limits', 'headersTimeout'], lim.headersTimeout),
    requestTimeoutMs: ms(['limits', 'requestTimeout'], lim.requestTimeout),
    maxBodySize: lim.maxBodySize,
    rateLimit: { max: lim.rateLimit.max, windowMs: ms(['limits', 'rateLimit', 'window'], lim.rateLimit.window) }
  }
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    err(['limits', 'headersTimeout'], `headersTimeout (${lim.headersTimeout}) must not exceed requestTimeout (${lim.requestTimeout})`)
  }
  const revalidateEveryMs = psc.revalidateEvery === undefined ? undefined : ms(['psc', 'revalidateEvery'], psc.revalidateEvery)

  // audit: a file is only worth keeping if it is tamper-evident
  if (raw.audit.file !== undefined && raw.audit.hmacKey === undefined) {
    err(['audit', 'file'], 'audit.file needs audit.hmacKey, the key of the hash chain (e.g. hmacKey: ${AUDIT_HMAC_KEY})')
  }

  // secrets: distinct, and never echoed
  s.secrets.forEach((secret, j) => {
    const i = s.secrets.indexOf(secret)
    if (i !== j) err(['session', 'secrets', String(j)], `this secret is the same as session.secrets[${i}]; each secret must be distinct`)
  })

  // upstreams
  const upstreams: Record<string, UpstreamSettings> = {}
  for (const [name, u] of Object.entries(raw.upstreams)) {
    let url: URL | undefined
    try { url = new URL(u.url) } catch { err(['upstreams', name, 'url'], `not a valid URL: ${JSON.stringify(u.url)}`) }
    if (url !== undefined && (url.search !== '' || url.hash !== '')) {
      err(['upstreams', name, 'url'], 'an upstream URL cannot have a query or a fragment')
    }
    if (url !== undefined && (url.username !== '' || url.password !== '')) {
      err(['upstreams', name, 'url'], 'an upstream URL cannot carry credentials')
    }
    const settings: UpstreamSettings = { name, url: u.url, websocket: u.websocket, forwardAccessToken: u.forwardAccessToken, headers: { ...u.headers } }
    if (u.timeout !== undefined) settings.timeoutMs = ms(['upstreams', name, 'timeout'], u.timeout)
    if (u.assertion !== undefined) settings.assertion = resolveUpstreamAssertion(u.assertion, ['upstreams', name, 'assertion'], err)
    upstreams[name] = settings
  }

  // routes
  const upstreamNames = Object.keys(raw.upstreams)
  const seenNames = new Map<string, number>()
  const routes: RouteConfig[] = raw.routes.map((r, i) => {
    const at = ['routes', String(i)]
    if (!Object.hasOwn(raw.upstreams, r.upstream)) {
      const close = closest(r.upstream, upstreamNames)
      err([...at, 'upstream'], `unknown upstream "${r.upstream}"` +
        (close !== undefined ? ` (did you mean "${close}"?)` : ` (declared upstreams: ${upstreamNames.join(', ')})`))
    }
    const first = seenNames.get(r.name)
    if (first !== undefined) {
      err([...at, 'name'], `duplicate route name "${r.name}" (already used by routes[${first}]${line(['routes', String(first)])})`)
    } else {
      seenNames.set(r.name, i)
    }
    const methods = r.match.methods
    if (methods !== undefined && new Set(methods).size !== methods.length) {
      err([...at, 'match', 'methods'], 'a method is listed twice')
    }
    for (let j = 0; j < i; j++) {
      const earlier = raw.routes[j]!
      if (isCatchAllOrCovers(earlier, r)) {
        err(at, `route "${r.name}" can never match: route "${earlier.name}" (routes[${j}]${line(['routes', String(j)])}) comes first and matches every request it would match`)
        break
      }
    }
    return { ...r, match: { ...r.match, pathPrefix: r.match.pathPrefix ?? '/' } }
  })

  // identity headers: defaults, then the YAML map (false removes, a field adds or replaces)
  const identity = new Map<string, IdentityHeader>()
  for (const [header, field] of Object.entries(DEFAULT_IDENTITY_HEADERS)) identity.set(header.toLowerCase(), { header, field })
  const seenHeaders = new Map<string, string>()
  for (const [header, field] of Object.entries(raw.headers.identity)) {
    const lower = header.toLowerCase()
    const previous = seenHeaders.get(lower)
    if (previous !== undefined) {
      err(['headers', 'identity', header], `header "${header}" is the same as "${previous}" (header names are case-insensitive)`, true)
      continue
    }
    seenHeaders.set(lower, header)
    if (field === false) {
      if (!identity.delete(lower)) {
        warnings.push({ segments: ['headers', 'identity', header], message: `"${header}" is not a default header: "false" removes nothing`, atKey: true })
      }
    } else {
      identity.set(lower, { header, field: field as IdentityField })
    }
  }
  if (identity.has(raw.headers.requestId.toLowerCase())) {
    err(['headers', 'requestId'], `"${raw.headers.requestId}" is also an identity header`)
  }

  const assertionIssues = checkAssertionKeys(raw.assertion.keys)
  for (const [i, message] of assertionIssues) err(['assertion', 'keys', String(i)], message)
  if (raw.assertion.keys.length === 0 && store.type === 'redis' && Object.values(raw.upstreams).some((u) => u.assertion !== undefined)) {
    warnings.push({
      segments: ['assertion', 'keys'],
      message: 'no assertion key configured: each replica generates its own at start, so a token signed by one replica is published only by that one; share a key (assertion.keys: ["${PSC_ASSERTION_KEY}"])'
    })
  }

  if (issues.length > 0 || publicUrl === undefined) return { issues, warnings }

  const origin = publicUrl.origin
  const secure = publicUrl.protocol === 'https:'
  const config: GatewayConfig = {
    source: src.file,
    listen: { ...raw.listen },
    publicUrl: origin,
    secure,
    admin: { ...raw.admin },
    prefix,
    trustedProxies: [...raw.trustedProxies],
    psc: {
      environment: psc.environment,
      issuer,
      discoveryUrl,
      clientId: psc.clientId,
      clientSecret: psc.clientSecret,
      clientAuth: psc.clientAuth,
      redirectPath,
      redirectUri: origin + redirectPath,
      postLogoutPath,
      postLogoutRedirectUri: origin + postLogoutPath,
      acr: psc.acr,
      scope: psc.scope,
      httpTimeoutMs,
      allowInsecureHttp: psc.allowInsecureHttp,
      revalidateEveryMs,
      backchannelLogout: psc.backchannelLogout
    },
    session: {
      cookieName: secure ? `__Host-${s.cookieName}` : s.cookieName,
      secrets: [...s.secrets],
      idleTimeoutMs,
      absoluteTimeoutMs,
      loginTimeoutMs,
      store: storeSettings
    },
    upstreams,
    routes,
    headers: {
      identity: [...identity.values()],
      encoding: raw.headers.encoding,
      stripPrefixes: [...raw.headers.stripPrefixes],
      requestId: raw.headers.requestId
    },
    lifecycle: { shutdownGraceMs: ms(['lifecycle', 'shutdownGrace'], raw.lifecycle.shutdownGrace), watchConfig: raw.lifecycle.watchConfig },
    limits,
    audit: {
      stdout: raw.audit.stdout,
      ...(raw.audit.file !== undefined && { file: raw.audit.file }),
      ...(raw.audit.hmacKey !== undefined && { hmacKey: raw.audit.hmacKey }),
      onBackpressure: raw.audit.onBackpressure,
      maxQueuedEvents: raw.audit.maxQueuedEvents,
      includeQuery: raw.audit.includeQuery
    },
    assertion: { keys: [...raw.assertion.keys], issuer: raw.assertion.issuer ?? origin },
    log: { level: raw.log.level }
  }
  return { config, issues, warnings }
}
