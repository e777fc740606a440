// Every HTTP call the gateway makes to PSC goes through here (openid-client's customFetch, jose's
// JWKS fetch, doctor): the outbound proxy (HTTPS through CONNECT), the extra CA bundle and the mTLS
// client certificate are applied in one place, and a failure is told apart: "the hospital's outbound
// proxy refused or cannot be reached" is not "PSC is unreachable".
import { rootCertificates } from 'node:tls'
import { Agent, ProxyAgent, fetch as undiciFetch, type Dispatcher } from 'undici'
import type { ClientCertificate } from '../config/client-certificate.js'
import type { OutboundProxySetting, PscOutboundSettings } from '../config/types.js'
import { tlsOptionsFor } from './psc-trust.js'
import {
  PSC_ERR_CLIENT_CERTIFICATE_REFUSED,
  PSC_ERR_OUTBOUND_PROXY,
  PSC_ERR_PSC_RESPONSE,
  PSC_ERR_PSC_TLS,
  PSC_ERR_PSC_UNREACHABLE,
  type OutboundErrorCode,
} from '../errors.js'

export interface OutboundFailure {
  code: OutboundErrorCode
  /** for operators: names the proxy or the PSC host, never a credential */
  message: string
}

type Env = Record<string, string | undefined>

/** A proxy URL without its credentials, fit for a log line. */
export function displayProxy(url: URL): string {
  return `${url.protocol}//${url.host}`
}

/** NO_PROXY semantics as curl has them: "*", host names and ".suffix" (with or without the dot), optional ":port". */
export function noProxyMatches(target: URL, entries: readonly string[]): boolean {
  const host = target.hostname.toLowerCase().replace(/^\[|\]$/g, '')
  const port = target.port || (target.protocol === 'https:' ? '443' : '80')
  for (const raw of entries) {
    let entry = raw.trim().toLowerCase()
    if (entry === '') continue
    if (entry === '*') return true
    let entryPort: string | undefined
    const m = /^(.*?):([0-9]+)$/.exec(entry)
    if (m && !entry.startsWith('[') && (m[1]!.match(/:/g) ?? []).length === 0) {
      entry = m[1]!
      entryPort = m[2]
    }
    entry = entry.replace(/^\[|\]$/g, '').replace(/^\*?\./, '')
    if (entryPort !== undefined && entryPort !== port) continue
    if (host === entry || host.endsWith(`.${entry}`)) return true
  }
  return false
}

export function splitNoProxy(value: string | undefined): string[] {
  return (value ?? '').split(/[,\s]+/).filter((e) => e !== '')
}

/** The proxy a call to `target` goes through, or undefined for a direct connection. */
export function proxyFor(target: URL, setting: OutboundProxySetting, env: Env): URL | undefined {
  if (setting.kind === 'direct') return undefined
  if (setting.kind === 'configured') {
    if (noProxyMatches(target, setting.noProxy)) return undefined
    const url = new URL(setting.url)
    if (setting.username !== undefined) url.username = encodeURIComponent(setting.username)
    if (setting.password !== undefined) url.password = encodeURIComponent(setting.password)
    return url
  }
  const pick = (...names: string[]): string | undefined =>
    names.map((n) => env[n]).find((v) => v !== undefined && v !== '')
  const value = target.protocol === 'https:' ? pick('https_proxy', 'HTTPS_PROXY') : pick('http_proxy', 'HTTP_PROXY')
  if (value === undefined) return undefined
  if (noProxyMatches(target, splitNoProxy(pick('no_proxy', 'NO_PROXY')))) return undefined
  try {
    return new URL(value.includes('://') ? value : `http://${value}`)
  } catch {
    return undefined
  }
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'ECONNRESET',
  'EPIPE',
])
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|UNABLE_TO_|SELF_SIGNED_|DEPTH_ZERO_|CERT_|HOSTNAME_MISMATCH)/
// TLS alerts a server sends about the client's certificate (OpenSSL's names, as Node codes them)
// OpenSSL 3.0 (Node 20/22) names alerts SSLV3_/TLSV1_/TLSV13_; OpenSSL 3.5 (Node 24) SSL/TLS_
const CERTIFICATE_ALERT =
  /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13|SSL\/TLS)_ALERT_(BAD_CERTIFICATE|UNSUPPORTED_CERTIFICATE|CERTIFICATE_REVOKED|CERTIFICATE_EXPIRED|CERTIFICATE_UNKNOWN|UNKNOWN_CA|ACCESS_DENIED|CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|DECRYPT_ERROR)$/
const ALERT_MEANING: Record<string, string> = {
  UNKNOWN_CA: 'it is not issued by a CA PSC trusts (IGC Santé)',
  CERTIFICATE_EXPIRED: 'it has expired',
  CERTIFICATE_REVOKED: 'it has been revoked',
  CERTIFICATE_REQUIRED: 'no client certificate was sent',
  ACCESS_DENIED: 'it is not allowed',
  HANDSHAKE_FAILURE: 'the handshake failed over it',
  DECRYPT_ERROR: 'its key does not match',
}

/** What a certificate refusal reads like in the log and /readyz. */
export function certificateRefusal(
  psc: string,
  certificate: ClientCertificate | undefined,
  why: string,
  via = '',
): OutboundFailure {
  const which =
    certificate === undefined
      ? 'no client certificate'
      : `the client certificate (${certificate.info.subject}, issued by ${certificate.info.issuer})`
  return {
    code: PSC_ERR_CLIENT_CERTIFICATE_REFUSED,
    message: `PSC at ${psc} refused ${which} in the TLS handshake${via}: ${why}; it must be the IGC Santé certificate registered at ANS for this client, valid and not revoked`,
  }
}

function causes(err: unknown): Array<Error & { code?: unknown; port?: unknown; address?: unknown }> {
  const out: Array<Error & { code?: unknown }> = []
  let e: unknown = err
  for (let i = 0; i < 6 && e instanceof Error; i++) {
    out.push(e)
    e = (e as { cause?: unknown }).cause
  }
  return out
}

export class OutboundHttp {
  readonly #settings: PscOutboundSettings
  readonly #env: Env
  readonly #dispatchers = new Map<string, Dispatcher>()
  #tls: Record<string, unknown>
  #certificate: ClientCertificate | undefined

  constructor(settings: PscOutboundSettings, env: Env = process.env) {
    this.#settings = settings
    this.#env = env
    this.#certificate = settings.certificate
    this.#tls = tlsOptionsFor(settings.ca, settings.certificate, rootCertificates)
  }

  /** The client certificate presented now (it can be renewed while the gateway runs). */
  get certificate(): ClientCertificate | undefined {
    return this.#certificate
  }

  /** node:tls options of every connection to PSC (CA, client certificate): for a handshake probe. */
  get tlsOptions(): Readonly<Record<string, unknown>> {
    return this.#tls
  }

  /**
   * Presents `certificate` from the next connection on: new connection pools, the old ones closed
   * once their requests in flight have ended.
   */
  replaceCertificate(certificate: ClientCertificate): void {
    this.#certificate = certificate
    this.#tls = tlsOptionsFor(this.#settings.ca, certificate, rootCertificates)
    const old = [...this.#dispatchers.values()]
    this.#dispatchers.clear()
    for (const d of old) void d.close().catch(() => undefined)
  }

  /** The proxy for `url` (without credentials), or undefined when direct: for logs and doctor. */
  proxyOf(url: string | URL): string | undefined {
    const p = proxyFor(new URL(url), this.#settings.proxy, this.#env)
    return p === undefined ? undefined : displayProxy(p)
  }

  #dispatcherFor(target: URL): Dispatcher {
    const proxy = proxyFor(target, this.#settings.proxy, this.#env)
    // http:// targets (the emulator) are forwarded in absolute form, so the proxy sees and logs each
    // request; https:// ones always go through a CONNECT tunnel, with TLS (and mTLS) end to end.
    const key = proxy === undefined ? 'direct' : `${proxy.href} ${target.protocol}`
    let d = this.#dispatchers.get(key)
    if (d === undefined) {
      d =
        proxy === undefined
          ? new Agent({ connect: this.#tls })
          : new ProxyAgent({
              uri: proxy.href,
              requestTls: this.#tls,
              proxyTunnel: target.protocol === 'https:' || proxy.protocol !== 'http:',
            })
      this.#dispatchers.set(key, d)
    }
    return d
  }

  /** A fetch with the Fetch API's signature: what openid-client's and jose's customFetch expect. */
  fetch = (input: string | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input)
    return undiciFetch(url, {
      ...(init as object),
      dispatcher: this.#dispatcherFor(url),
    } as never) as unknown as Promise<Response>
  }

  /** Why a call to `url` failed, told apart: the outbound proxy, PSC's reachability, TLS. */
  describeFailure(err: unknown, url: string | URL): OutboundFailure {
    const target = new URL(url)
    const proxy = proxyFor(target, this.#settings.proxy, this.#env)
    const psc = target.host
    const chain = causes(err)
    const via = proxy === undefined ? '' : ` through the outbound proxy ${displayProxy(proxy)}`
    const tunnel = chain.map((e) => /Proxy response \(([0-9]{3})\)/.exec(e.message)).find((m) => m !== null)
    if (proxy !== undefined && tunnel) {
      const status = Number(tunnel[1])
      if (status === 407)
        return {
          code: PSC_ERR_OUTBOUND_PROXY,
          message: `the outbound proxy ${displayProxy(proxy)} asks for authentication (407): check psc.outboundProxy.username and password`,
        }
      if (status === 403 || status === 405)
        return {
          code: PSC_ERR_OUTBOUND_PROXY,
          message: `the outbound proxy ${displayProxy(proxy)} refused to connect to ${psc} (${status}): ask the network team to allow CONNECT to ${psc}`,
        }
      return {
        code: PSC_ERR_PSC_UNREACHABLE,
        message: `the outbound proxy ${displayProxy(proxy)} could not connect to PSC at ${psc} (it answered ${status})`,
      }
    }
    const alert = chain
      .map((e) => (typeof e.code === 'string' ? CERTIFICATE_ALERT.exec(e.code) : null))
      .find((m) => m !== null)
    if (alert && (this.#certificate !== undefined || alert[1] === 'CERTIFICATE_REQUIRED')) {
      return certificateRefusal(
        psc,
        this.#certificate,
        `TLS alert ${alert[1]!.toLowerCase()}: ${ALERT_MEANING[alert[1]!] ?? 'the certificate is not acceptable'}`,
        via,
      )
    }
    const tls = chain.find((e) => typeof e.code === 'string' && TLS_CODE.test(e.code))
    if (tls)
      return {
        code: PSC_ERR_PSC_TLS,
        message: `TLS with ${psc} failed${via}: ${String(tls.code)} ${tls.message} (a TLS-inspecting proxy needs its CA in psc.tls.ca)`,
      }
    const sys = chain.find((e) => typeof e.code === 'string' && CONNECTION_CODES.has(e.code))
    if (sys) {
      const code = String(sys.code)
      if (proxy !== undefined) {
        // Through a proxy the gateway opens sockets to the proxy only: a refused or unresolved
        // connection is the proxy's. A reset can come from PSC inside the tunnel.
        const proxyPort = Number(proxy.port || (proxy.protocol === 'https:' ? 443 : 80))
        const atProxy =
          code !== 'ECONNRESET' && code !== 'EPIPE' && code !== 'UND_ERR_SOCKET' ? true : sys.port === proxyPort
        if (atProxy)
          return {
            code: PSC_ERR_OUTBOUND_PROXY,
            message: `the outbound proxy ${displayProxy(proxy)} cannot be reached (${code}); PSC was not tried`,
          }
      }
      return { code: PSC_ERR_PSC_UNREACHABLE, message: `PSC at ${psc} cannot be reached${via} (${code})` }
    }
    const timeout = chain.find((e) => e.name === 'TimeoutError' || e.name === 'AbortError')
    if (timeout) return { code: PSC_ERR_PSC_UNREACHABLE, message: `PSC at ${psc} did not answer in time${via}` }
    const first = chain[0]
    return { code: PSC_ERR_PSC_RESPONSE, message: `${psc}${via}: ${first ? first.message : String(err)}` }
  }

  async close(): Promise<void> {
    const all = [...this.#dispatchers.values()]
    this.#dispatchers.clear()
    await Promise.all(all.map((d) => d.close().catch(() => undefined)))
  }
}
