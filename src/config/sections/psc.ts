// psc: the Pro Santé Connect client (environment, credentials, paths, timeouts).
import { Type, type Static } from '@sinclair/typebox'
import type { Checks, ConfigSection } from '../checks.js'
import { withMs, type WithMs } from '../duration-keys.js'
import { Duration, HttpUrl, NonEmpty } from '../formats.js'
import type { RawConfig } from '../schema.js'
import { originOf } from './server.js'
import { PSC_ENVIRONMENTS, discoveryUrlFor } from '../../psc/environments.js'
import { PscProductionKeys } from './psc-production.js'
import { resolvePscProduction } from '../resolve-psc-production.js'
import type { PscOnboardingSettings, PscOutboundSettings } from '../psc-production-types.js'
import { CibaSchema, checkCiba, convertCiba, ServiceNameSchema, type CibaSettings } from './ciba.js'

export const PscSchema = Type.Object(
  {
    environment: Type.Union([Type.Literal('bas'), Type.Literal('production'), Type.Literal('custom')]),
    issuer: Type.Optional(HttpUrl),
    discoveryUrl: Type.Optional(HttpUrl),
    clientId: NonEmpty('The client id ANS gave you'),
    clientSecret: Type.Optional(NonEmpty('The client secret ANS gave you (not used with clientAuth: tls_client_auth)')),
    clientAuth: Type.Union(
      [Type.Literal('client_secret_basic'), Type.Literal('client_secret_post'), Type.Literal('tls_client_auth')],
      {
        default: 'client_secret_basic',
        description:
          'How the gateway authenticates to PSC: client secret (basic or post), or tls_client_auth (RFC 8705: psc.certificate)',
      },
    ),
    redirectPath: Type.String({ pattern: '^/', default: '/_psc/callback' }),
    postLogoutPath: Type.String({ pattern: '^/', default: '/_psc/logged-out' }),
    acr: Type.Union([Type.Literal('eidas1'), Type.Literal('eidas2'), Type.Literal('eidas3')], { default: 'eidas1' }),
    scope: Type.String({ default: 'openid scope_all' }),
    httpTimeout: Duration({ default: '10s' }, { timer: true }),
    allowInsecureHttp: Type.Boolean({
      default: false,
      description: 'Allow an http:// issuer (the local emulator only)',
    }),
    revalidateEvery: Type.Optional(
      Duration({
        description:
          "Confirm with PSC (refresh grant) at this interval that the practitioner's PSC session is alive; end ours if PSC refuses",
      }),
    ),
    backchannelLogout: Type.Boolean({
      default: true,
      description: 'Accept OpenID Connect back-channel logout at <prefix>/backchannel-logout',
    }),
    // --- check refuses codes PSC never sends ---
    allowUnknownProfessions: Type.Boolean({
      default: false,
      description:
        'Accept profession codes in routes that are not in the TRE_G15 table this release knows (a code ANS added since)',
    }),
    // CIBA: sections/ciba.ts
    serviceName: Type.Optional(ServiceNameSchema),
    ciba: CibaSchema,
    // --- outbound proxy, CA bundle, client certificate, ANS onboarding (sections/psc-production.ts) ---
    ...PscProductionKeys,
  },
  { additionalProperties: false },
)

export type PscSettings = Omit<
  WithMs<Static<typeof PscSchema>>,
  'issuer' | 'discoveryUrl' | 'ciba' | 'clientSecret' | keyof typeof PscProductionKeys
> & {
  ciba: CibaSettings
  /** '' with tls_client_auth */
  clientSecret: string
  outbound: PscOutboundSettings
  onboarding: PscOnboardingSettings
  issuer: string
  discoveryUrl: string
  /** publicUrl + redirectPath */
  redirectUri: string
  /** publicUrl + postLogoutPath */
  postLogoutRedirectUri: string
}

// The callback and logged-out pages live under the prefix; their defaults follow a changed prefix.
function pscPaths(
  raw: RawConfig,
  wrote: (path: string[]) => boolean,
): { redirectPath: string; postLogoutPath: string } {
  return {
    redirectPath: wrote(['psc', 'redirectPath']) ? raw.psc.redirectPath : `${raw.prefix}/callback`,
    postLogoutPath: wrote(['psc', 'postLogoutPath']) ? raw.psc.postLogoutPath : `${raw.prefix}/logged-out`,
  }
}

function checkIssuer(psc: RawConfig['psc'], checks: Checks): void {
  if (psc.environment === 'custom') {
    if (psc.issuer === undefined) {
      checks.error(['psc', 'environment'], 'environment "custom" requires psc.issuer (and optionally psc.discoveryUrl)')
    }
  } else {
    for (const key of ['issuer', 'discoveryUrl'] as const) {
      if (psc[key] !== undefined) {
        checks.error(
          ['psc', key],
          `${key} is fixed by environment "${psc.environment}"; remove it, or use environment: custom`,
        )
      }
    }
  }
  for (const key of ['issuer', 'discoveryUrl'] as const) {
    const url = psc[key]
    if (url === undefined) continue
    let parsed: URL | undefined
    try {
      parsed = new URL(url)
    } catch {
      checks.error(['psc', key], `not a valid URL: ${JSON.stringify(url)}`)
    }
    if (parsed?.protocol === 'http:' && !psc.allowInsecureHttp) {
      checks.error(
        ['psc', key],
        `an http:// ${key} is refused: use https://, or set psc.allowInsecureHttp: true (local emulator only)`,
      )
    }
  }
}

function endpoints(psc: RawConfig['psc']): { issuer: string; discoveryUrl: string } {
  if (psc.environment === 'custom') {
    const issuer = psc.issuer ?? ''
    return { issuer, discoveryUrl: psc.discoveryUrl ?? discoveryUrlFor(issuer) }
  }
  return {
    issuer: PSC_ENVIRONMENTS[psc.environment].issuer,
    discoveryUrl: PSC_ENVIRONMENTS[psc.environment].discoveryUrl,
  }
}

function sentUrls(
  raw: RawConfig,
  wrote: (path: string[]) => boolean,
): { redirectUri?: string; postLogoutRedirectUri?: string } {
  let origin: string
  try {
    origin = originOf(raw)
  } catch {
    return {}
  }
  const paths = pscPaths(raw, wrote)
  return { redirectUri: origin + paths.redirectPath, postLogoutRedirectUri: origin + paths.postLogoutPath }
}

export const psc: ConfigSection<'psc'> = {
  check(raw, checks) {
    checkIssuer(raw.psc, checks)
    checkCiba(raw, checks)
    const prefix = raw.prefix
    for (const [key, value] of Object.entries(pscPaths(raw, checks.wrote))) {
      if (!value.startsWith(`${prefix}/`) || value.length === prefix.length + 1) {
        checks.error(
          ['psc', key],
          `expected a path under the gateway prefix "${prefix}/", got ${JSON.stringify(value)}`,
        )
      }
    }
    resolvePscProduction(raw.psc, checks.substituted, sentUrls(raw, checks.wrote), checks.error, checks.warn)
  },
  convert(raw, conversion) {
    const origin = originOf(raw)
    const paths = pscPaths(raw, conversion.wrote)
    const ignore = () => undefined
    const { clientSecret, outbound, onboarding } = resolvePscProduction(
      raw.psc,
      conversion.substituted,
      sentUrls(raw, conversion.wrote),
      ignore,
      ignore,
    )
    const written = withMs(PscSchema, raw.psc)
    for (const key of Object.keys(PscProductionKeys)) delete (written as Record<string, unknown>)[key]
    return {
      psc: {
        ...written,
        clientSecret,
        outbound,
        onboarding,
        ciba: convertCiba(raw.psc.ciba),
        ...endpoints(raw.psc),
        ...paths,
        redirectUri: origin + paths.redirectPath,
        postLogoutRedirectUri: origin + paths.postLogoutPath,
      },
    }
  },
}
