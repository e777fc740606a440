// Where the gateway listens and how browsers reach it: listen, publicUrl, admin, prefix,
// trustedProxies.
import { Type, type Static } from '@sinclair/typebox'
import type { ConfigSection } from '../checks.js'
import { publicUrlProblems } from '../../psc/public-url.js'
import { readAdminToken } from '../../ops/admin-token.js'

export const serverSchema = {
  listen: Type.Object(
    {
      host: Type.String({ default: '127.0.0.1' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
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
      listen: { ...raw.listen },
      publicUrl: publicUrl.origin,
      publicUrlAsWritten: raw.publicUrl,
      secure: publicUrl.protocol === 'https:',
      admin: { ...raw.admin },
      prefix: raw.prefix,
      trustedProxies: [...raw.trustedProxies],
    }
  },
}

/** The origin of a checked publicUrl, e.g. for the PSC redirect URIs. */
export function originOf(raw: { publicUrl: string }): string {
  return new URL(raw.publicUrl).origin
}

/** Cookies and the PSC redirect URIs depend on it. */
export function isSecure(raw: { publicUrl: string }): boolean {
  return new URL(raw.publicUrl).protocol === 'https:'
}
