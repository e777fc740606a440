// Where the gateway listens and how browsers reach it: listen (HTTP or HTTPS, an optional redirect
// listener), publicUrl, admin, prefix, trustedProxies.
import { Type, type Static } from '@sinclair/typebox'
import type { Checks, ConfigSection } from '../checks.js'
import type { RawConfig } from '../schema.js'
import { loadServerCertificate } from '../server-certificate.js'
import { publicUrlProblems } from '../../psc/public-url.js'
import { readAdminToken } from '../../ops/admin-token.js'

export const serverSchema = {
  listen: Type.Object(
    {
      host: Type.String({ default: '127.0.0.1' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
      tls: Type.Optional(
        Type.Object(
          {
            cert: Type.String({ minLength: 1, description: 'PEM server certificate (absolute path)' }),
            key: Type.String({ minLength: 1, description: 'PEM private key of that certificate (absolute path)' }),
            chain: Type.Optional(
              Type.String({
                minLength: 1,
                description: 'PEM intermediate certificates sent after cert (absolute path)',
              }),
            ),
            minVersion: Type.Union([Type.Literal('TLSv1.2'), Type.Literal('TLSv1.3')], {
              default: 'TLSv1.2',
              description: 'Oldest TLS version accepted; 1.3 is always preferred',
            }),
            hsts: Type.Object(
              {
                maxAge: Type.Integer({
                  minimum: 0,
                  default: 31536000,
                  description: 'Strict-Transport-Security max-age in seconds; 0 sends no header',
                }),
                includeSubDomains: Type.Boolean({ default: false }),
              },
              { additionalProperties: false, default: {} },
            ),
          },
          {
            additionalProperties: false,
            description:
              'Serve HTTPS directly (a VM without a reverse proxy). The files are read again when they change.',
          },
        ),
      ),
      httpRedirect: Type.Optional(
        Type.Object(
          {
            host: Type.Optional(Type.String({ description: 'default: listen.host' })),
            port: Type.Integer({ minimum: 0, maximum: 65535 }),
          },
          {
            additionalProperties: false,
            description: 'A plain HTTP listener that only redirects GET and HEAD to publicUrl (needs listen.tls)',
          },
        ),
      ),
    },
    { additionalProperties: false, default: {} },
  ),
  publicUrl: Type.String({
    pattern: '^https?://[^/\\s]+/?$',
    description: 'The origin browsers use, e.g. https://dpi.hopital.fr (no path; a trailing "/" is ignored)',
  }),
  admin: Type.Object(
    {
      enabled: Type.Boolean({ default: true }),
      host: Type.String({ default: '127.0.0.1' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 9090 }),
      tokenFile: Type.Optional(
        Type.String({
          minLength: 1,
          description:
            'File holding the bearer token of the session API (/sessions), e.g. a mounted Kubernetes Secret; re-read at each call. Without it the session API is off',
        }),
      ),
      tokenName: Type.Optional(
        Type.String({
          pattern: '^[A-Za-z0-9_.@-]{1,64}$',
          description: 'Who holds that token (e.g. soc), named in the audit events of the session API (default admin)',
        }),
      ),
    },
    { additionalProperties: false, default: {} },
  ),
  prefix: Type.String({ pattern: '^/[A-Za-z0-9_-]+$', default: '/_psc', description: "The gateway's own endpoints" }),
  trustedProxies: Type.Array(Type.String(), {
    default: [],
    description: 'Addresses or CIDRs whose X-Forwarded-* headers are trusted',
  }),
}

type Written = { [K in keyof typeof serverSchema]: Static<(typeof serverSchema)[K]> }

export type ServerSettings = Omit<Written, 'publicUrl'> & {
  /** origin only, no trailing slash, e.g. "https://dpi.hopital.fr" */
  publicUrl: string
  /** publicUrl is https: cookies get Secure and the __Host- prefix */
  secure: boolean
  /** publicUrl as the file wrote it (credentials, query... dropped from publicUrl), for `raccordement` */
  publicUrlAsWritten?: string
}

/** listen.tls after defaults: what the HTTPS listener is built from. */
export type ListenTls = NonNullable<Written['listen']['tls']>

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

function parsedUrl(text: string): URL | undefined {
  try {
    return new URL(text)
  } catch {
    return undefined
  }
}

export const server: ConfigSection<keyof ServerSettings> = {
  check(raw, checks) {
    checkListenTls(raw, checks)
    const publicUrl = parsedUrl(raw.publicUrl)
    if (publicUrl === undefined) {
      checks.error(
        ['publicUrl'],
        `expected an origin like https://dpi.hopital.fr, got ${JSON.stringify(raw.publicUrl)}`,
      )
    } else if (publicUrl.protocol === 'http:' && !LOOPBACK.has(publicUrl.hostname)) {
      checks.warn(
        ['publicUrl'],
        'publicUrl is http:// on a non-loopback host: session cookies will travel in clear and lose the __Host- prefix; use https:// in production',
      )
    }
    if (raw.admin.tokenFile !== undefined) {
      const read = readAdminToken(raw.admin.tokenFile)
      if ('problem' in read) checks.error(['admin', 'tokenFile'], read.problem)
      else if (!raw.admin.enabled)
        checks.warn(['admin', 'tokenFile'], 'admin.enabled is false: the session API this token opens is not served')
    }
    if (publicUrl === undefined) return
    // In production every rule holds; elsewhere (an emulator on 127.0.0.1, the BAS) only what the
    // gateway would silently drop or what no browser accepts is worth a warning.
    const production = raw.psc.environment === 'production'
    for (const p of publicUrlProblems(raw.publicUrl)) {
      if (production) checks.error(['publicUrl'], `${p.message} (refused with psc.environment production)`)
      else if (p.rule !== 'loopback' && p.rule !== 'ip-address') checks.warn(['publicUrl'], p.message)
    }
  },
  convert(raw) {
    const publicUrl = new URL(raw.publicUrl)
    return {
      listen: structuredClone(raw.listen),
      publicUrl: publicUrl.origin,
      publicUrlAsWritten: raw.publicUrl,
      secure: publicUrl.protocol === 'https:',
      admin: { ...raw.admin },
      prefix: raw.prefix,
      trustedProxies: [...raw.trustedProxies],
    }
  },
}

/** The days before expiry from which check and start-up warn about the server certificate. */
const EXPIRY_WARNING_DAYS = 14

function checkListenTls(raw: RawConfig, checks: Checks): void {
  const tls = raw.listen.tls
  if (tls === undefined) {
    if (raw.listen.httpRedirect !== undefined)
      checks.error(['listen', 'httpRedirect'], 'httpRedirect redirects to HTTPS: it needs listen.tls', true)
    return
  }
  if (
    raw.listen.httpRedirect !== undefined &&
    raw.listen.httpRedirect.port === raw.listen.port &&
    raw.listen.port !== 0
  )
    checks.error(['listen', 'httpRedirect', 'port'], `the HTTPS listener already uses port ${raw.listen.port}`)
  let loaded: ReturnType<typeof loadServerCertificate>
  try {
    loaded = loadServerCertificate(tls)
  } catch (err) {
    const e = err as Error & { key?: 'cert' | 'key' | 'chain' }
    checks.error(['listen', 'tls', e.key ?? 'cert'], e.message)
    return
  }
  const { info } = loaded
  const now = Date.now()
  // An expired certificate is refused: every browser would refuse it too, and a gateway that starts
  // with it only hides the outage behind a warning page people learn to click through.
  if (info.validTo < now)
    checks.error(['listen', 'tls', 'cert'], `the certificate expired on ${new Date(info.validTo).toISOString()}`)
  else if (info.validFrom > now)
    checks.error(
      ['listen', 'tls', 'cert'],
      `the certificate is not valid before ${new Date(info.validFrom).toISOString()}`,
    )
  else if (info.validTo - now < EXPIRY_WARNING_DAYS * 86_400_000)
    checks.warn(
      ['listen', 'tls', 'cert'],
      `the certificate expires on ${new Date(info.validTo).toISOString()}: renew it (the new files are picked up without a restart)`,
    )
  const host = parsedUrl(raw.publicUrl)?.hostname
  if (host !== undefined && !loaded.coversHost(host))
    checks.warn(
      ['listen', 'tls', 'cert'],
      `the certificate does not name ${host}, the host of publicUrl: browsers will refuse it`,
    )
}

/** The origin of a checked publicUrl, e.g. for the PSC redirect URIs. */
export function originOf(raw: { publicUrl: string }): string {
  return new URL(raw.publicUrl).origin
}

/** Cookies and the PSC redirect URIs depend on it. */
export function isSecure(raw: { publicUrl: string }): boolean {
  return new URL(raw.publicUrl).protocol === 'https:'
}
