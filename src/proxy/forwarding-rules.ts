// What forwarding needs from the configuration, compiled once per configuration (and again at each
// reload): a request keeps the rules it was authorised under, even if a reload swaps them mid-flight.
import type { GatewayConfig, IdentityHeader } from '../config/types.js'
import type { HeaderEncoding } from './identity-headers.js'
import { compileStripRules, type StripRules } from './strip-headers.js'

export interface ForwardingRules {
  strip: StripRules
  identity: readonly IdentityHeader[]
  encoding: HeaderEncoding
  /** lower-case */
  requestIdHeader: string
  /** upstream name → path prefix of its URL, without trailing slash ("" for none) */
  basePath: ReadonlyMap<string, string>
}

export function compileForwardingRules(config: GatewayConfig): ForwardingRules {
  const h = config.headers
  return {
    // Every header the gateway sets is also one a client may never send: identity headers, the
    // request id, the static headers of every upstream (e.g. a shared secret) and the assertion's.
    strip: compileStripRules(h.stripPrefixes, [
      ...h.identity.map((i) => i.header),
      h.requestId,
      ...Object.values(config.upstreams).flatMap((u) => Object.keys(u.headers ?? {})),
      ...Object.values(config.upstreams).flatMap((u) => (u.assertion === undefined ? [] : [u.assertion.header])),
    ]),
    identity: h.identity,
    encoding: h.encoding,
    requestIdHeader: h.requestId.toLowerCase(),
    basePath: new Map(Object.values(config.upstreams).map((u) => [u.name, new URL(u.url).pathname.replace(/\/$/, '')])),
  }
}
