// `psc-gateway doctor`: run on the server where the gateway will run, before the first practitioner
// does. Each check says what it found and what to do; nothing logs anyone in. The client
// authentication check makes a token call with a code that cannot exist: PSC answers invalid_grant
// once it has accepted the client (id and secret, or certificate), invalid_client when it has not.
import { lookup } from 'node:dns/promises'
import { connect as netConnect, isIP } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import type { GatewayConfig } from '../config/types.js'
import { CERTIFICATE_WARNING_MS } from '../config/resolve-psc-production.js'
import { OutboundHttp, proxyFor } from '../oidc/outbound-http.js'
import { directoryCheck } from './doctor-directory.js'
import { diagnose, isCertificateRefusal, tokenEndpointOf } from './doctor-tls.js'
import { DOCTOR_TEXT, type CliLanguage, type DoctorText, type ProxySource } from './doctor-text.js'
import { PSC_ERR_OUTBOUND_PROXY, PSC_ERR_PSC_TLS } from '../errors.js'

export type Verdict = 'ok' | 'warn' | 'fail' | 'skip'

export interface DoctorCheck {
  name:
    | 'config'
    | 'dns'
    | 'proxy'
    | 'tls'
    | 'discovery'
    | 'jwks'
    | 'clock'
    | 'client-auth'
    | 'certificate'
    | 'registered-urls'
    | 'directory'
  verdict: Verdict
  detail: string
  /** what to do about it */
  todo?: string
}

export interface DoctorReport {
  ok: boolean
  checks: DoctorCheck[]
}

/** PSC's access tokens live 2 minutes: beyond this skew, tokens are refused or accepted wrongly. */
export const MAX_CLOCK_SKEW_S = 30
const WARN_CLOCK_SKEW_S = 5
const DOCTOR_CODE = 'psc-gateway-doctor-invalid-code'

interface Env {
  [name: string]: string | undefined
}

export interface DoctorOptions {
  env?: Env
  now?: () => number
  timeoutMs?: number
  /** the language of the findings: French by default */
  lang?: CliLanguage
}

export async function runDoctor(
  config: GatewayConfig,
  warnings: string[],
  opts: DoctorOptions = {},
): Promise<DoctorReport> {
  const env = opts.env ?? process.env
  const now = opts.now ?? Date.now
  const timeoutMs = opts.timeoutMs ?? config.psc.httpTimeoutMs
  const psc = config.psc
  const m = DOCTOR_TEXT[opts.lang ?? 'fr']
  const checks: DoctorCheck[] = []
  const add = (c: DoctorCheck) => {
    checks.push(c)
  }
  const http = new OutboundHttp(psc.outbound, env)
  try {
    add(
      warnings.length === 0
        ? { name: 'config', verdict: 'ok', detail: m.configOk(config.source) }
        : {
            name: 'config',
            verdict: 'warn',
            detail: m.configWarnings(config.source, warnings.length, warnings.join('; ')),
            todo: m.configWarningsTodo,
          },
    )

    const discoveryUrl = new URL(psc.discoveryUrl)
    const proxy = proxyFor(discoveryUrl, psc.outbound.proxy, env)
    add(await dnsCheck([discoveryUrl.hostname, new URL(psc.issuer).hostname], proxy !== undefined, m))
    if (proxy === undefined) {
      add({ name: 'proxy', verdict: 'skip', detail: m.noProxy, todo: m.noProxyTodo })
    } else {
      add(await proxyCheck(proxy, discoveryUrl, timeoutMs, proxySource(discoveryUrl, psc, env), m))
    }

    add(certificateCheck(psc, now(), m))

    // discovery, with TLS as the gateway will use it (CA bundle, client certificate, proxy)
    let metadata: Record<string, unknown> | undefined
    let serverDate: number | undefined
    try {
      const res = await http.fetch(discoveryUrl, {
        signal: AbortSignal.timeout(timeoutMs),
        headers: { accept: 'application/json' },
      })
      const date = res.headers.get('date')
      if (date !== null) serverDate = Date.parse(date)
      const receivedAt = now()
      if (discoveryUrl.protocol === 'https:') {
        add({ name: 'tls', verdict: 'ok', detail: m.tlsOk(discoveryUrl.host, psc.outbound.ca?.file) })
      } else {
        add({ name: 'tls', verdict: 'warn', detail: m.tlsHttp(discoveryUrl.host), todo: m.tlsHttpTodo })
      }
      if (!res.ok) {
        add(answeredCheck(discoveryUrl, res.status, http.proxyOf(discoveryUrl), m))
      } else {
        try {
          metadata = (await res.json()) as Record<string, unknown>
        } catch {
          add({ name: 'discovery', verdict: 'fail', detail: m.notJson(discoveryUrl.href), todo: m.notJsonTodo })
        }
      }
      if (metadata !== undefined) add(discoveryCheck(metadata, psc, m))
      add(clockCheck(serverDate, receivedAt, m))
    } catch (err) {
      const failure = await diagnose(http, err, discoveryUrl, timeoutMs)
      if (failure.code === PSC_ERR_PSC_TLS) {
        add({ name: 'tls', verdict: 'fail', detail: m.failure(failure.code, failure.message), todo: m.tlsFailTodo })
      } else {
        add({ name: 'tls', verdict: 'skip', detail: m.notReached })
      }
      add({
        name: 'discovery',
        verdict: 'fail',
        detail: m.failure(failure.code, failure.message),
        todo:
          failure.code === PSC_ERR_OUTBOUND_PROXY
            ? m.proxyFailureTodo
            : isCertificateRefusal(failure)
              ? m.certificateRefusedTodo
              : m.reachTodo,
      })
      add({ name: 'clock', verdict: 'skip', detail: m.notReached })
    }

    if (metadata === undefined) {
      add({ name: 'jwks', verdict: 'skip', detail: m.noDiscovery })
      add({ name: 'client-auth', verdict: 'skip', detail: m.noDiscovery })
    } else {
      add(await jwksCheck(http, metadata, timeoutMs, m))
      add(await clientAuthCheck(http, metadata, psc, timeoutMs, m))
    }

    add(
      psc.onboarding.registered === undefined
        ? {
            name: 'registered-urls',
            verdict: 'warn',
            detail: m.registeredMissing(psc.redirectUri, psc.postLogoutRedirectUri),
            todo: m.registeredMissingTodo,
          }
        : {
            name: 'registered-urls',
            verdict: 'ok',
            detail: m.registeredOk(psc.redirectUri, psc.postLogoutRedirectUri),
          },
    )
    const directory = await directoryCheck(config.accounts, opts.lang ?? 'fr')
    if (directory !== undefined) add(directory)
  } finally {
    await http.close()
  }
  return { ok: !checks.some((c) => c.verdict === 'fail'), checks }
}

/**
 * A discovery answer that is not 200. Through a proxy, a 5xx is most often the proxy's own (it
 * could not reach PSC), not a wrong address: the advice says so rather than pointing at the
 * configuration. A 4xx is a wrong address (psc.environment, psc.discoveryUrl).
 */
function answeredCheck(url: URL, status: number, proxy: string | undefined, m: DoctorText): DoctorCheck {
  if (status >= 500 && proxy !== undefined)
    return {
      name: 'discovery',
      verdict: 'fail',
      detail: m.proxyAnswered(url.href, status, proxy),
      todo: m.proxyAnsweredTodo,
    }
  return {
    name: 'discovery',
    verdict: 'fail',
    detail: m.answered(url.href, status),
    todo: status >= 500 ? m.pscErrorTodo : m.wrongUrlTodo,
  }
}

/** Where the proxy for `target` was named: psc.outboundProxy, or the environment variable that proxyFor read. */
function proxySource(target: URL, psc: GatewayConfig['psc'], env: Env): ProxySource {
  if (psc.outbound.proxy.kind === 'configured') return { kind: 'config' }
  const names = target.protocol === 'https:' ? ['https_proxy', 'HTTPS_PROXY'] : ['http_proxy', 'HTTP_PROXY']
  return { kind: 'env', name: names.find((n) => env[n] !== undefined && env[n] !== '') ?? names[1]! }
}

async function dnsCheck(hosts: string[], viaProxy: boolean, m: DoctorText): Promise<DoctorCheck> {
  const unique = [...new Set(hosts)]
  const failed: string[] = []
  const found: string[] = []
  for (const host of unique) {
    if (isIP(host)) {
      found.push(host)
      continue
    }
    try {
      const { address } = await lookup(host)
      found.push(`${host} → ${address}`)
    } catch (err) {
      failed.push(`${host} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
    }
  }
  if (failed.length === 0) return { name: 'dns', verdict: 'ok', detail: found.join(', ') }
  if (viaProxy) return { name: 'dns', verdict: 'ok', detail: m.dnsViaProxy(failed.join(', ')) }
  return { name: 'dns', verdict: 'fail', detail: m.dnsFail(failed.join(', ')), todo: m.dnsTodo }
}

/** A CONNECT to PSC through the proxy, by hand: the answer's status line is the verdict. */
async function proxyCheck(
  proxy: URL,
  target: URL,
  timeoutMs: number,
  source: ProxySource,
  m: DoctorText,
): Promise<DoctorCheck> {
  const shown = `${proxy.protocol}//${proxy.host}`
  const port = Number(proxy.port || (proxy.protocol === 'https:' ? 443 : 80))
  const hostPort = `${target.hostname}:${target.port || (target.protocol === 'https:' ? 443 : 80)}`
  const auth =
    proxy.username !== ''
      ? `Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}\r\n`
      : ''
  return new Promise<DoctorCheck>((resolve) => {
    const socket =
      proxy.protocol === 'https:'
        ? tlsConnect({ host: proxy.hostname, port, servername: proxy.hostname })
        : netConnect(port, proxy.hostname)
    const done = (c: DoctorCheck) => {
      socket.destroy()
      resolve(c)
    }
    socket.setTimeout(timeoutMs, () =>
      done({ name: 'proxy', verdict: 'fail', detail: m.proxyTimeout(shown, timeoutMs), todo: m.proxyTimeoutTodo }),
    )
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done({
        name: 'proxy',
        verdict: 'fail',
        detail: m.proxyUnreachable(shown, err.code ?? err.message),
        todo: m.proxyUnreachableTodo(source),
      }),
    )
    socket.once(proxy.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      socket.write(`CONNECT ${hostPort} HTTP/1.1\r\nHost: ${hostPort}\r\n${auth}\r\n`)
    })
    let head = ''
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1')
      const end = head.indexOf('\r\n')
      if (end === -1) return
      const status = Number(/^HTTP\/1\.[01] ([0-9]{3})/.exec(head.slice(0, end))?.[1] ?? 0)
      if (status === 200) done({ name: 'proxy', verdict: 'ok', detail: m.proxyOk(shown, hostPort) })
      else if (status === 407)
        done({ name: 'proxy', verdict: 'fail', detail: m.proxyAuth(shown), todo: m.proxyAuthTodo(source) })
      else if (status === 403 || status === 405)
        done({
          name: 'proxy',
          verdict: 'fail',
          detail: m.proxyRefused(shown, hostPort, status),
          todo: m.proxyRefusedTodo(hostPort),
        })
      else
        done({
          name: 'proxy',
          verdict: 'fail',
          detail: m.proxyOther(shown, hostPort, String(status || head.slice(0, end))),
          todo: m.proxyOtherTodo,
        })
    })
  })
}

function discoveryCheck(doc: Record<string, unknown>, psc: GatewayConfig['psc'], m: DoctorText): DoctorCheck {
  if (doc.issuer !== psc.issuer) {
    return {
      name: 'discovery',
      verdict: 'fail',
      detail: m.wrongIssuer(String(doc.issuer), psc.issuer),
      todo: m.wrongIssuerTodo,
    }
  }
  const missing = ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint'].filter(
    (k) => typeof doc[k] !== 'string',
  )
  if (missing.length > 0)
    return { name: 'discovery', verdict: 'fail', detail: m.lacks(missing.join(', ')), todo: m.lacksTodo }
  const methods = doc.token_endpoint_auth_methods_supported
  if (Array.isArray(methods) && !methods.includes(psc.clientAuth)) {
    return {
      name: 'discovery',
      verdict: 'fail',
      detail: m.noMethod(psc.clientAuth, methods.join(', ')),
      todo: m.noMethodTodo,
    }
  }
  return { name: 'discovery', verdict: 'ok', detail: m.discoveryOk(psc.issuer, String(doc.authorization_endpoint)) }
}

function clockCheck(serverDate: number | undefined, localNow: number, m: DoctorText): DoctorCheck {
  if (serverDate === undefined || Number.isNaN(serverDate)) return { name: 'clock', verdict: 'warn', detail: m.noDate }
  // Date has a one-second resolution: a skew under a second is none
  const skew = Math.round((localNow - serverDate) / 1000)
  const text = m.skew(Math.abs(skew), skew >= 0)
  if (Math.abs(skew) > MAX_CLOCK_SKEW_S)
    return { name: 'clock', verdict: 'fail', detail: m.skewTooLarge(text, MAX_CLOCK_SKEW_S), todo: m.ntpTodo }
  if (Math.abs(skew) > WARN_CLOCK_SKEW_S) return { name: 'clock', verdict: 'warn', detail: text, todo: m.ntpCheckTodo }
  return { name: 'clock', verdict: 'ok', detail: text }
}

async function jwksCheck(
  http: OutboundHttp,
  doc: Record<string, unknown>,
  timeoutMs: number,
  m: DoctorText,
): Promise<DoctorCheck> {
  const uri = String(doc.jwks_uri)
  try {
    const res = await http.fetch(uri, { signal: AbortSignal.timeout(timeoutMs) })
    const body = res.ok ? ((await res.json()) as { keys?: unknown }) : undefined
    const keys = Array.isArray(body?.keys) ? body.keys.length : 0
    if (keys === 0)
      return { name: 'jwks', verdict: 'fail', detail: m.jwksEmpty(uri, res.status), todo: m.jwksEmptyTodo }
    return { name: 'jwks', verdict: 'ok', detail: m.jwksOk(keys, uri) }
  } catch (err) {
    const f = http.describeFailure(err, uri)
    return { name: 'jwks', verdict: 'fail', detail: m.failure(f.code, f.message), todo: m.jwksFailTodo }
  }
}

async function clientAuthCheck(
  http: OutboundHttp,
  doc: Record<string, unknown>,
  psc: GatewayConfig['psc'],
  timeoutMs: number,
  m: DoctorText,
): Promise<DoctorCheck> {
  const tokenEndpoint = tokenEndpointOf(doc, psc)
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code: DOCTOR_CODE,
    redirect_uri: psc.redirectUri,
    code_verifier: 'psc-gateway-doctor-'.padEnd(43, 'x'),
  })
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  }
  const mtls = psc.clientAuth === 'tls_client_auth'
  const how = mtls
    ? m.byCertificate(psc.outbound.certificate?.info.subject ?? m.noCertificate)
    : m.bySecret(psc.clientId)
  if (psc.clientAuth === 'client_secret_basic') {
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(psc.clientId)}:${encodeURIComponent(psc.clientSecret)}`).toString('base64')}`
  } else {
    body.set('client_id', psc.clientId)
    if (psc.clientAuth === 'client_secret_post') body.set('client_secret', psc.clientSecret)
  }
  let res: Response
  try {
    res = await http.fetch(tokenEndpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) })
  } catch (err) {
    const f = await diagnose(http, err, tokenEndpoint, timeoutMs)
    return {
      name: 'client-auth',
      verdict: 'fail',
      detail: m.failure(f.code, f.message),
      todo: isCertificateRefusal(f) ? m.certificateRefusedTodo : m.clientAuthNetTodo(mtls),
    }
  }
  let error: string | undefined
  try {
    error = ((await res.json()) as { error?: string }).error
  } catch {
    /* not JSON */
  }
  if (error === 'invalid_grant') return { name: 'client-auth', verdict: 'ok', detail: m.clientAuthOk(how) }
  if (error === 'invalid_client' || res.status === 401) {
    return {
      name: 'client-auth',
      verdict: 'fail',
      detail: m.clientAuthRefused(how),
      todo: m.clientAuthRefusedTodo(mtls),
    }
  }
  if (error === 'unauthorized_client')
    return { name: 'client-auth', verdict: 'fail', detail: m.unauthorized(error), todo: m.unauthorizedTodo }
  return { name: 'client-auth', verdict: 'warn', detail: m.unexpected(res.status, error ?? ''), todo: m.unexpectedTodo }
}

function certificateCheck(psc: GatewayConfig['psc'], now: number, m: DoctorText): DoctorCheck {
  const c = psc.outbound.certificate
  if (c === undefined) {
    return psc.clientAuth === 'tls_client_auth'
      ? { name: 'certificate', verdict: 'fail', detail: m.certificateMissing, todo: m.certificateMissingTodo }
      : { name: 'certificate', verdict: 'skip', detail: m.certificateNone }
  }
  const { subject, issuer, validTo, validFrom } = c.info
  const what = m.certificate(subject, issuer, new Date(validTo).toISOString())
  if (validTo <= now)
    return { name: 'certificate', verdict: 'fail', detail: m.certificateExpired(what), todo: m.certificateRenewTodo }
  if (validFrom > now)
    return { name: 'certificate', verdict: 'fail', detail: m.certificateNotYet(what), todo: m.certificateClockTodo }
  const days = Math.floor((validTo - now) / 86_400_000)
  if (validTo - now < CERTIFICATE_WARNING_MS)
    return { name: 'certificate', verdict: 'warn', detail: m.certificateSoon(days, what), todo: m.certificateSoonTodo }
  return { name: 'certificate', verdict: 'ok', detail: what }
}

const MARK: Record<Verdict, string> = { ok: ' OK ', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' }

export function formatDoctorReport(report: DoctorReport, lang: CliLanguage = 'fr'): string {
  const m = DOCTOR_TEXT[lang]
  const colon = lang === 'fr' ? ' :' : ':'
  const lines = report.checks.map(
    (c) =>
      `[${MARK[c.verdict]}] ${c.name}${colon} ${c.detail}${c.todo && c.verdict !== 'ok' ? `\n       → ${c.todo}` : ''}`,
  )
  lines.push('', report.ok ? m.summaryOk : m.summaryFailed(report.checks.filter((c) => c.verdict === 'fail').length))
  return `${lines.join('\n')}\n`
}
