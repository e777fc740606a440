// upstreams: the legacy applications requests are forwarded to, by name.
import { Type, type Static } from '@sinclair/typebox'
import type { ConfigSection } from '../checks.js'
import { withMs, type WithMs } from '../duration-keys.js'
import { Duration, HeaderName, HttpUrl } from '../formats.js'
import { checkAssertionTtl } from '../assertion-keys.js'

// Signed identity assertion (proxy/identity-assertion.ts): a short-lived JWT an upstream can verify, so that
// it can refuse any request that did not come through the gateway.
const UpstreamAssertionSchema = Type.Object(
  {
    header: Type.String({
      ...HeaderName,
      default: 'X-PSC-Assertion',
      description: 'The request header that carries the JWT',
    }),
    audience: Type.String({
      minLength: 1,
      description: 'The JWT "aud" claim: the name this upstream checks, e.g. "https://dpi.hopital.fr" or "dpi"',
    }),
    ttl: Duration({ default: '60s', description: 'Lifetime of a token (exp - iat); between 10s and 10m' }),
  },
  {
    additionalProperties: false,
    description: 'Send a signed identity assertion (JWT, EdDSA or ES256) to this upstream',
  },
)

export const UpstreamSchema = Type.Object(
  {
    // https: the certificate is checked against Node's CA roots and NODE_EXTRA_CA_CERTS (docs/deployment.md)
    url: HttpUrl,
    assertion: Type.Optional(UpstreamAssertionSchema),
    websocket: Type.Boolean({ default: false, description: 'Also proxy WebSocket upgrades' }),
    timeout: Type.Optional(Duration({}, { timer: true })),
    forwardAccessToken: Type.Boolean({
      default: false,
      description: 'Send the PSC access token as "Authorization: Bearer"; it is refreshed before it expires',
    }),
    decodesTwice: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          'The application decodes percent-encoding a second time (some IIS, servlet or PHP setups): paths carrying an encoded percent sign ' +
          '(%252e, %252f, %255c, %25 followed by two hex digits), which it would read as dots, slashes or backslashes the gateway did not authorise, are refused with 400',
      }),
    ),
    headers: Type.Optional(
      Type.Record(HeaderName, Type.String(), {
        additionalProperties: false,
        description:
          'Static headers added to every request forwarded to this upstream (e.g. a shared secret the upstream checks: X-Gateway-Secret: ${GATEWAY_SECRET}); client-sent headers of these names are removed',
      }),
    ),
  },
  { additionalProperties: false },
)

// additionalProperties: false, or a key that fails the key pattern would be silently accepted
export const UpstreamsSchema = Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }), UpstreamSchema, {
  minProperties: 1,
  additionalProperties: false,
})

export type UpstreamConfig = Static<typeof UpstreamSchema>

/** headers: static headers added on forward (e.g. a shared secret the upstream checks); never logged */
export type UpstreamSettings = WithMs<UpstreamConfig> & { name: string }

export const upstreams: ConfigSection<'upstreams'> = {
  check(raw, checks) {
    for (const [name, u] of Object.entries(raw.upstreams)) {
      const at = ['upstreams', name, 'url']
      let url: URL | undefined
      try {
        url = new URL(u.url)
      } catch {
        checks.error(at, `not a valid URL: ${JSON.stringify(u.url)}`)
      }
      if (url !== undefined && (url.search !== '' || url.hash !== ''))
        checks.error(at, 'an upstream URL cannot have a query or a fragment')
      if (url !== undefined && (url.username !== '' || url.password !== ''))
        checks.error(at, 'an upstream URL cannot carry credentials')
      if (u.assertion !== undefined) checkAssertionTtl(u.assertion.ttl, ['upstreams', name, 'assertion', 'ttl'], checks)
    }
  },
  convert(raw) {
    const settings: Record<string, UpstreamSettings> = {}
    for (const [name, u] of Object.entries(raw.upstreams)) {
      settings[name] = { name, ...withMs(UpstreamSchema, u), headers: { ...u.headers } }
    }
    return { upstreams: settings }
  },
}
