// The doctor's checks of what PSC answers: the discovery document (issuer, endpoints, the client
// authentication method), its keys (JWKS), and the clock against PSC's Date header.
import type { GatewayConfig } from '../config/types.js'
import type { OutboundHttp } from '../oidc/outbound-http.js'
import type { DoctorCheck } from './doctor-check.js'
import type { DoctorText } from './doctor-text.js'

/** PSC's access tokens live 2 minutes: beyond this skew, tokens are refused or accepted wrongly. */
export const MAX_CLOCK_SKEW_S = 30
const WARN_CLOCK_SKEW_S = 5

/**
 * A discovery answer that is not 200. Through a proxy, a 5xx is most often the proxy's own (it
 * could not reach PSC), not a wrong address: the advice says so rather than pointing at the
 * configuration. A 4xx is a wrong address (psc.environment, psc.discoveryUrl).
 */
export function answeredCheck(url: URL, status: number, proxy: string | undefined, m: DoctorText): DoctorCheck {
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

export function discoveryCheck(doc: Record<string, unknown>, psc: GatewayConfig['psc'], m: DoctorText): DoctorCheck {
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

export function clockCheck(serverDate: number | undefined, localNow: number, m: DoctorText): DoctorCheck {
  if (serverDate === undefined || Number.isNaN(serverDate)) return { name: 'clock', verdict: 'warn', detail: m.noDate }
  // Date has a one-second resolution: a skew under a second is none
  const skew = Math.round((localNow - serverDate) / 1000)
  const text = m.skew(Math.abs(skew), skew >= 0)
  if (Math.abs(skew) > MAX_CLOCK_SKEW_S)
    return { name: 'clock', verdict: 'fail', detail: m.skewTooLarge(text, MAX_CLOCK_SKEW_S), todo: m.ntpTodo }
  if (Math.abs(skew) > WARN_CLOCK_SKEW_S) return { name: 'clock', verdict: 'warn', detail: text, todo: m.ntpCheckTodo }
  return { name: 'clock', verdict: 'ok', detail: text }
}

export async function jwksCheck(
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
