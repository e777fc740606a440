// `psc-gateway doctor`: run on the server where the gateway will run, before the first practitioner
// does. Each check says what it found and what to do; nothing logs anyone in. The client
// authentication check makes a token call with a code that cannot exist: PSC answers invalid_grant
// once it has accepted the client (id and secret, or certificate), invalid_client when it has not.
import { lookup } from 'node:dns/promises'
import { connect as netConnect, isIP } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import type { GatewayConfig } from '../config/types.js'
import { CERTIFICATE_WARNING_MS } from '../config/resolve-psc-production.js'
import { OutboundHttp, PSC_ERR_OUTBOUND_PROXY, PSC_ERR_PSC_TLS, proxyFor } from '../auth/outbound-http.js'
import { directoryCheck } from './doctor-directory.js'
import { CERTIFICATE_TODO, diagnose, isCertificateRefusal, tokenEndpointOf } from './doctor-tls.js'

export type Verdict = 'ok' | 'warn' | 'fail' | 'skip'

export interface DoctorCheck {
  name: 'config' | 'dns' | 'proxy' | 'tls' | 'discovery' | 'jwks' | 'clock' | 'client-auth' | 'certificate' | 'registered-urls' | 'directory'
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

interface Env { [name: string]: string | undefined }

export interface DoctorOptions {
  env?: Env
  now?: () => number
  timeoutMs?: number
}

export async function runDoctor(config: GatewayConfig, warnings: string[], opts: DoctorOptions = {}): Promise<DoctorReport> {
  const env = opts.env ?? process.env
  const now = opts.now ?? Date.now
  const timeoutMs = opts.timeoutMs ?? config.psc.httpTimeoutMs
  const psc = config.psc
  const checks: DoctorCheck[] = []
  const add = (c: DoctorCheck) => { checks.push(c) }
  const http = new OutboundHttp(psc.outbound, env)
  try {
    add(warnings.length === 0
      ? { name: 'config', verdict: 'ok', detail: `${config.source} is valid` }
      : { name: 'config', verdict: 'warn', detail: `${config.source} is valid, with ${warnings.length} warning(s): ${warnings.join('; ')}`, todo: 'read the warnings above' })

    const discoveryUrl = new URL(psc.discoveryUrl)
    const proxy = proxyFor(discoveryUrl, psc.outbound.proxy, env)
    add(await dnsCheck([discoveryUrl.hostname, new URL(psc.issuer).hostname], proxy !== undefined))
    if (proxy === undefined) {
      add({ name: 'proxy', verdict: 'skip', detail: 'no outbound proxy for PSC (direct connection)', todo: 'if this server reaches the internet only through a proxy, set HTTPS_PROXY or psc.outboundProxy' })
    } else {
      add(await proxyCheck(proxy, discoveryUrl, timeoutMs))
    }

    add(certificateCheck(psc, now()))

    // discovery, with TLS as the gateway will use it (CA bundle, client certificate, proxy)
    let metadata: Record<string, unknown> | undefined
    let serverDate: number | undefined
    try {
      const res = await http.fetch(discoveryUrl, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } })
      const date = res.headers.get('date')
      if (date !== null) serverDate = Date.parse(date)
      const receivedAt = now()
      if (discoveryUrl.protocol === 'https:') {
        add({ name: 'tls', verdict: 'ok', detail: `TLS to ${discoveryUrl.host}: certificate chain verified${psc.outbound.ca ? ` (with ${psc.outbound.ca.file})` : ''}` })
      } else {
        add({ name: 'tls', verdict: 'warn', detail: `${discoveryUrl.host} is reached over http:// (emulator only)`, todo: 'use an https:// issuer outside development' })
      }
      if (!res.ok) {
        add({ name: 'discovery', verdict: 'fail', detail: `${discoveryUrl.href} answered ${res.status}`, todo: 'check psc.environment / psc.discoveryUrl' })
      } else {
        try {
          metadata = await res.json() as Record<string, unknown>
        } catch {
          add({ name: 'discovery', verdict: 'fail', detail: `${discoveryUrl.href} did not answer JSON`, todo: 'a proxy or portal may answer instead of PSC: check the URL and the proxy' })
        }
      }
      if (metadata !== undefined) add(discoveryCheck(metadata, psc))
      add(clockCheck(serverDate, receivedAt))
    } catch (err) {
      const failure = await diagnose(http, err, discoveryUrl, timeoutMs)
      if (failure.code === PSC_ERR_PSC_TLS) {
        add({ name: 'tls', verdict: 'fail', detail: failure.message, todo: 'add the CA that signs what this server sees (a TLS-inspecting proxy\'s CA) to psc.tls.ca' })
      } else {
        add({ name: 'tls', verdict: 'skip', detail: 'PSC not reached' })
      }
      add({
        name: 'discovery',
        verdict: 'fail',
        detail: `${failure.code}: ${failure.message}`,
        todo: failure.code === PSC_ERR_OUTBOUND_PROXY ? 'ask the network team about the outbound proxy (address, credentials, CONNECT allowed to PSC)' : isCertificateRefusal(failure) ? CERTIFICATE_TODO : 'check that this server can reach PSC (firewall, proxy, DNS)'
      })
      add({ name: 'clock', verdict: 'skip', detail: 'PSC not reached' })
    }

    if (metadata === undefined) {
      add({ name: 'jwks', verdict: 'skip', detail: 'no discovery document' })
      add({ name: 'client-auth', verdict: 'skip', detail: 'no discovery document' })
    } else {
      add(await jwksCheck(http, metadata, timeoutMs))
      add(await clientAuthCheck(http, metadata, psc, timeoutMs))
    }

    add(psc.onboarding.registered === undefined
      ? { name: 'registered-urls', verdict: 'warn', detail: `not declared: the gateway sends ${psc.redirectUri} and ${psc.postLogoutRedirectUri}`, todo: 'copy the URLs ANS registered into psc.registered, so that a mismatch is found here and not by a practitioner' }
      : { name: 'registered-urls', verdict: 'ok', detail: `${psc.redirectUri} and ${psc.postLogoutRedirectUri} match psc.registered` })
    const directory = await directoryCheck(config.accounts)
    if (directory !== undefined) add(directory)
  } finally {
    await http.close()
  }
  return { ok: !checks.some((c) => c.verdict === 'fail'), checks }
}

async function dnsCheck(hosts: string[], viaProxy: boolean): Promise<DoctorCheck> {
  const unique = [...new Set(hosts)]
  const failed: string[] = []
  const found: string[] = []
  for (const host of unique) {
    if (isIP(host)) { found.push(host); continue }
    try {
      const { address } = await lookup(host)
      found.push(`${host} → ${address}`)
    } catch (err) {
      failed.push(`${host} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
    }
  }
  if (failed.length === 0) return { name: 'dns', verdict: 'ok', detail: found.join(', ') }
  if (viaProxy) return { name: 'dns', verdict: 'ok', detail: `${failed.join(', ')} not resolved here; the outbound proxy resolves PSC's names` }
  return { name: 'dns', verdict: 'fail', detail: `cannot resolve ${failed.join(', ')}`, todo: 'fix this server\'s DNS, or set the outbound proxy (HTTPS_PROXY or psc.outboundProxy) if the network requires one' }
}

/** A CONNECT to PSC through the proxy, by hand: the answer's status line is the verdict. */
async function proxyCheck(proxy: URL, target: URL, timeoutMs: number): Promise<DoctorCheck> {
  const shown = `${proxy.protocol}//${proxy.host}`
  const port = Number(proxy.port || (proxy.protocol === 'https:' ? 443 : 80))
  const hostPort = `${target.hostname}:${target.port || (target.protocol === 'https:' ? 443 : 80)}`
  const auth = proxy.username !== '' ? `Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}\r\n` : ''
  return new Promise<DoctorCheck>((resolve) => {
    const socket = proxy.protocol === 'https:' ? tlsConnect({ host: proxy.hostname, port, servername: proxy.hostname }) : netConnect(port, proxy.hostname)
    const done = (c: DoctorCheck) => { socket.destroy(); resolve(c) }
    socket.setTimeout(timeoutMs, () => done({ name: 'proxy', verdict: 'fail', detail: `the outbound proxy ${shown} did not answer within ${timeoutMs} ms`, todo: 'check the proxy address and the firewall between this server and the proxy' }))
    socket.once('error', (err: NodeJS.ErrnoException) => done({ name: 'proxy', verdict: 'fail', detail: `the outbound proxy ${shown} cannot be reached (${err.code ?? err.message})`, todo: 'check the proxy address (psc.outboundProxy or HTTPS_PROXY) and that the proxy runs' }))
    socket.once(proxy.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      socket.write(`CONNECT ${hostPort} HTTP/1.1\r\nHost: ${hostPort}\r\n${auth}\r\n`)
    })
    let head = ''
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1')
      const end = head.indexOf('\r\n')
      if (end === -1) return
      const status = Number(/^HTTP\/1\.[01] ([0-9]{3})/.exec(head.slice(0, end))?.[1] ?? 0)
      if (status === 200) done({ name: 'proxy', verdict: 'ok', detail: `the outbound proxy ${shown} accepts CONNECT to ${hostPort}` })
      else if (status === 407) done({ name: 'proxy', verdict: 'fail', detail: `the outbound proxy ${shown} asks for authentication (407)`, todo: 'set psc.outboundProxy.username and password (password from the environment)' })
      else if (status === 403 || status === 405) done({ name: 'proxy', verdict: 'fail', detail: `the outbound proxy ${shown} refuses CONNECT to ${hostPort} (${status})`, todo: `ask the network team to allow CONNECT to ${hostPort}` })
      else done({ name: 'proxy', verdict: 'fail', detail: `the outbound proxy ${shown} could not connect to ${hostPort} (it answered ${status || head.slice(0, end)})`, todo: 'PSC is not reachable from the proxy: check the proxy\'s own access to the internet' })
    })
  })
}

function discoveryCheck(m: Record<string, unknown>, psc: GatewayConfig['psc']): DoctorCheck {
  if (m.issuer !== psc.issuer) {
    return { name: 'discovery', verdict: 'fail', detail: `the document names issuer ${String(m.issuer)}, expected ${psc.issuer}`, todo: 'check psc.environment (bas or production) or psc.issuer' }
  }
  const missing = ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint'].filter((k) => typeof m[k] !== 'string')
  if (missing.length > 0) return { name: 'discovery', verdict: 'fail', detail: `the document lacks ${missing.join(', ')}`, todo: 'check psc.discoveryUrl' }
  const methods = m.token_endpoint_auth_methods_supported
  if (Array.isArray(methods) && !methods.includes(psc.clientAuth)) {
    return { name: 'discovery', verdict: 'fail', detail: `PSC does not offer ${psc.clientAuth} (offers ${methods.join(', ')})`, todo: 'change psc.clientAuth' }
  }
  return { name: 'discovery', verdict: 'ok', detail: `issuer ${psc.issuer}; authorization at ${String(m.authorization_endpoint)}` }
}

function clockCheck(serverDate: number | undefined, localNow: number): DoctorCheck {
  if (serverDate === undefined || Number.isNaN(serverDate)) return { name: 'clock', verdict: 'warn', detail: 'PSC sent no Date header: skew not measured' }
  // Date has a one-second resolution: a skew under a second is none
  const skew = Math.round((localNow - serverDate) / 1000)
  const text = `this server's clock is ${Math.abs(skew)} s ${skew >= 0 ? 'ahead of' : 'behind'} PSC's`
  if (Math.abs(skew) > MAX_CLOCK_SKEW_S) return { name: 'clock', verdict: 'fail', detail: `${text} (more than ${MAX_CLOCK_SKEW_S} s; PSC's tokens live 2 minutes)`, todo: 'synchronise the clock (NTP: chrony or systemd-timesyncd)' }
  if (Math.abs(skew) > WARN_CLOCK_SKEW_S) return { name: 'clock', verdict: 'warn', detail: text, todo: 'check NTP synchronisation' }
  return { name: 'clock', verdict: 'ok', detail: text }
}

async function jwksCheck(http: OutboundHttp, m: Record<string, unknown>, timeoutMs: number): Promise<DoctorCheck> {
  const uri = String(m.jwks_uri)
  try {
    const res = await http.fetch(uri, { signal: AbortSignal.timeout(timeoutMs) })
    const body = res.ok ? await res.json() as { keys?: unknown } : undefined
    const keys = Array.isArray(body?.keys) ? body.keys.length : 0
    if (keys === 0) return { name: 'jwks', verdict: 'fail', detail: `${uri} answered ${res.status} with no key`, todo: 'check the proxy (it may answer instead of PSC)' }
    return { name: 'jwks', verdict: 'ok', detail: `${keys} signing key(s) at ${uri}` }
  } catch (err) {
    const f = http.describeFailure(err, uri)
    return { name: 'jwks', verdict: 'fail', detail: `${f.code}: ${f.message}`, todo: 'the keys are needed to check back-channel logout tokens' }
  }
}

async function clientAuthCheck(http: OutboundHttp, m: Record<string, unknown>, psc: GatewayConfig['psc'], timeoutMs: number): Promise<DoctorCheck> {
  const tokenEndpoint = tokenEndpointOf(m, psc)
  const body = new URLSearchParams({ grant_type: 'authorization_code', code: DOCTOR_CODE, redirect_uri: psc.redirectUri, code_verifier: 'psc-gateway-doctor-'.padEnd(43, 'x') })
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }
  const how = psc.clientAuth === 'tls_client_auth' ? `client certificate (${psc.outbound.certificate?.info.subject ?? 'none'})` : `client id ${psc.clientId} and its secret`
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
    return { name: 'client-auth', verdict: 'fail', detail: `${f.code}: ${f.message}`, todo: isCertificateRefusal(f) ? CERTIFICATE_TODO : 'check the network path to the token endpoint' }
  }
  let error: string | undefined
  try { error = ((await res.json()) as { error?: string }).error } catch { /* not JSON */ }
  if (error === 'invalid_grant') return { name: 'client-auth', verdict: 'ok', detail: `PSC accepted the ${how} (a made-up code got invalid_grant, as expected)` }
  if (error === 'invalid_client' || res.status === 401) {
    return {
      name: 'client-auth',
      verdict: 'fail',
      detail: `PSC refused the ${how}: invalid_client`,
      todo: psc.clientAuth === 'tls_client_auth'
        ? 'the certificate is not one PSC accepts for this client: issued by IGC Santé, the one declared at ANS (subject), not expired'
        : 'check psc.clientId and psc.clientSecret for this environment (BAS and production have different secrets)'
    }
  }
  if (error === 'unauthorized_client') return { name: 'client-auth', verdict: 'fail', detail: `PSC accepted the client but not the authorization code flow (${error})`, todo: 'ask ANS to enable the authorization code flow for this client' }
  return { name: 'client-auth', verdict: 'warn', detail: `unexpected answer from the token endpoint: ${res.status} ${error ?? ''}`.trim(), todo: 'try a real login on the BAS' }
}

function certificateCheck(psc: GatewayConfig['psc'], now: number): DoctorCheck {
  const c = psc.outbound.certificate
  if (c === undefined) {
    return psc.clientAuth === 'tls_client_auth'
      ? { name: 'certificate', verdict: 'fail', detail: 'clientAuth is tls_client_auth but no psc.certificate', todo: 'set psc.certificate' }
      : { name: 'certificate', verdict: 'skip', detail: 'no client certificate (clientAuth by secret)' }
  }
  const { subject, issuer, validTo, validFrom } = c.info
  const what = `${subject}, issued by ${issuer}, valid until ${new Date(validTo).toISOString()}`
  if (validTo <= now) return { name: 'certificate', verdict: 'fail', detail: `expired: ${what}`, todo: 'renew the certificate (IGC Santé) and replace psc.certificate' }
  if (validFrom > now) return { name: 'certificate', verdict: 'fail', detail: `not valid yet: ${what}`, todo: 'check this server\'s clock, or wait' }
  const days = Math.floor((validTo - now) / 86_400_000)
  if (validTo - now < CERTIFICATE_WARNING_MS) return { name: 'certificate', verdict: 'warn', detail: `expires in ${days} day(s): ${what}`, todo: 'order the renewal now' }
  return { name: 'certificate', verdict: 'ok', detail: what }
}

const MARK: Record<Verdict, string> = { ok: ' OK ', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' }

export function formatDoctorReport(report: DoctorReport): string {
  const lines = report.checks.map((c) => `[${MARK[c.verdict]}] ${c.name}: ${c.detail}${c.todo && c.verdict !== 'ok' ? `\n       → ${c.todo}` : ''}`)
  lines.push('', report.ok ? 'doctor: no failure' : `doctor: ${report.checks.filter((c) => c.verdict === 'fail').length} failure(s)`)
  return lines.join('\n') + '\n'
}
