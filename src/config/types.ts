// The configuration the rest of the gateway reads: the YAML after validation, defaults, PSC
// environment resolution and unit conversion (durations in ms, absolute URLs). Built by load.ts.
import type { IdentityField, RouteConfig } from './schema.js'

export interface IdentityHeader {
  /** header name as configured, e.g. "X-PSC-IdNat" */
  header: string
  field: IdentityField
}

export interface UpstreamSettings {
  name: string
  url: string
  websocket: boolean
  timeoutMs?: number
  forwardAccessToken: boolean
  /** static headers added on forward (e.g. a shared secret the upstream checks); never logged */
  headers?: Record<string, string>
  /** a signed identity assertion is sent to this upstream */
  assertion?: { header: string; audience: string; ttlMs: number }
}

export interface GatewayConfig {
  /** the file it came from, for messages; "<embedded>" for built-in configs */
  source: string
  listen: { host: string; port: number }
  /** origin only, no trailing slash, e.g. "https://dpi.hopital.fr" */
  publicUrl: string
  /** publicUrl is https: cookies get Secure and the __Host- prefix */
  secure: boolean
  admin: { enabled: boolean; host: string; port: number }
  /** reserved prefix for the gateway's own endpoints, e.g. "/_psc" */
  prefix: string
  trustedProxies: string[]
  psc: {
    environment: 'bas' | 'production' | 'custom'
    issuer: string
    discoveryUrl: string
    clientId: string
    clientSecret: string
    clientAuth: 'client_secret_basic' | 'client_secret_post'
    redirectPath: string
    /** publicUrl + redirectPath */
    redirectUri: string
    postLogoutPath: string
    /** publicUrl + postLogoutPath */
    postLogoutRedirectUri: string
    acr: 'eidas1' | 'eidas2' | 'eidas3'
    scope: string
    httpTimeoutMs: number
    allowInsecureHttp: boolean
    revalidateEveryMs?: number
    backchannelLogout: boolean
  }
  session: {
    /** the name actually used, "__Host-" + configured name when secure */
    cookieName: string
    secrets: string[]
    idleTimeoutMs: number
    absoluteTimeoutMs: number
    loginTimeoutMs: number
    store: {
      type: 'memory' | 'redis'
      maxSessions: number
      url?: string
      keyPrefix: string
      commandTimeoutMs: number
      tlsCaFile?: string
      sentinel?: { name: string; hosts: Array<{ host: string; port: number }> }
    }
  }
  upstreams: Record<string, UpstreamSettings>
  routes: RouteConfig[]
  headers: {
    identity: IdentityHeader[]
    encoding: 'percent' | 'latin1'
    stripPrefixes: string[]
    requestId: string
  }
  lifecycle: { shutdownGraceMs: number; watchConfig: boolean }
  limits: {
    maxHeaderSize: number
    headersTimeoutMs: number
    requestTimeoutMs: number
    /** bytes; 0 = no limit */
    maxBodySize: number
    /** per client address (request.ip, i.e. through trustedProxies only), on login and callback; max 0 = off */
    rateLimit: { max: number; windowMs: number }
  }
  audit: {
    stdout: boolean
    /** a hash-chained audit file (hmacKey is then set) */
    file?: string
    hmacKey?: string
    onBackpressure: 'block' | 'drop'
    maxQueuedEvents: number
    includeQuery: boolean
  }
  /** signing of the identity assertions (upstreams.<name>.assertion) */
  assertion: { keys: string[]; issuer: string }
  log: { level: string }
}
