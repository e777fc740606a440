// The forward-auth header contract, read from the gateway's configuration: which headers the front
// proxy copies from the gateway's answer, which client-sent headers it clears first, and where it
// reaches the gateway and the application. Every generated proxy configuration is built from this,
// so none can forget a configured header. Pure: no I/O.
import type { GatewayConfig } from '../../config/types.js'
import { identityHeaderNames } from '../../proxy/identity-headers.js'

/** Set by the front proxy on browser requests it passes to the gateway's own endpoints. */
export const BROWSER_MARK = 'X-PSC-From-Browser'

/** Headers the proxy's sub-request must not take from the client (the gateway would refuse a conflict). */
export const ORIGINAL_REQUEST_HEADERS = [
  'X-Original-URI',
  'X-Original-URL',
  'X-Original-Method',
  'X-Forwarded-Uri',
  'X-Forwarded-Method',
] as const

export interface ForwardAuthContract {
  /** the configuration file it was read from, for the header comment */
  source: string
  /** e.g. https://dpi.hopital.fr */
  publicUrl: string
  /** the host browsers use, without port */
  hostname: string
  /** the gateway's own endpoints, e.g. /_psc */
  prefix: string
  /** e.g. /_psc/auth */
  authPath: string
  /** where the proxy reaches the gateway, e.g. http://127.0.0.1:8080 */
  gateway: URL
  /** the application the proxy protects */
  app: URL
  appName: string
  /** what the gateway answers and the proxy copies: identity headers, then assertion headers */
  copy: readonly string[]
  /** copy, and the "_" spelling of each name that has a "-" (some applications read both the same) */
  clear: readonly string[]
  /** headers.stripPrefixes: cleared by prefix where the proxy can */
  clearPrefixes: readonly string[]
  /** trustedProxies is empty: the gateway will refuse the header form and withhold the assertion */
  noTrustedProxy: boolean
}

export interface ContractOptions {
  /** the upstream (name in upstreams) the proxy sends allowed requests to; default: the only one */
  upstream?: string | undefined
  /** where the proxy reaches the gateway; default: listen address (127.0.0.1 for a wildcard host) */
  gateway?: string | undefined
}

export class ContractError extends Error {}

export function forwardAuthContract(
  config: GatewayConfig,
  source: string,
  options: ContractOptions = {},
): ForwardAuthContract {
  const names = Object.keys(config.upstreams)
  const appName = options.upstream ?? (names.length === 1 ? names[0]! : undefined)
  if (appName === undefined)
    throw new ContractError(
      `la configuration a plusieurs upstreams (${names.join(', ')}) : dites lequel le proxy protège avec --upstream NOM`,
    )
  const upstream = config.upstreams[appName]
  if (upstream === undefined)
    throw new ContractError(
      `--upstream ${appName} : pas d'upstream de ce nom dans la configuration (${names.join(', ')})`,
    )
  let gateway: URL
  try {
    gateway = new URL(options.gateway ?? defaultGatewayUrl(config))
  } catch {
    throw new ContractError(
      `--gateway ${options.gateway ?? ''} : une URL http:// était attendue, par exemple http://10.0.0.5:8080`,
    )
  }
  if (gateway.protocol !== 'http:' && gateway.protocol !== 'https:')
    throw new ContractError(`--gateway ${gateway.href} : une URL http:// ou https:// était attendue`)
  const copy = uniqueNames(identityHeaderNames(config))
  const clear = uniqueNames(copy.flatMap((h) => (h.includes('-') ? [h, h.replaceAll('-', '_')] : [h])))
  const publicUrl = new URL(config.publicUrl)
  return {
    source,
    publicUrl: config.publicUrl,
    hostname: publicUrl.hostname,
    prefix: config.prefix,
    authPath: `${config.prefix}/auth`,
    gateway: new URL(gateway.origin),
    app: new URL(upstream.url),
    appName,
    copy,
    clear,
    clearPrefixes: uniqueNames(config.headers.stripPrefixes),
    noTrustedProxy: config.trustedProxies.length === 0,
  }
}

function defaultGatewayUrl(config: GatewayConfig): string {
  const host = config.listen.host
  const reachable =
    host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
  return `http://${reachable}:${config.listen.port}`
}

/** Header names are case-insensitive: the first spelling of each is kept. */
function uniqueNames(names: readonly string[]): string[] {
  const seen = new Set<string>()
  return names.filter((n) => {
    const key = n.toLowerCase()
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/** "X-Remote-User" → "x_remote_user": nginx's variable suffix, HAProxy's variable name. */
export function variableName(header: string): string {
  return header.toLowerCase().replaceAll('-', '_')
}

/** The application's address as host:port (the default port of its scheme when none is written). */
export function hostPort(url: URL): string {
  return `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`
}
