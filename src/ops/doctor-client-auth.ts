// The doctor's checks of the gateway's client at PSC: its certificate (present when PSC needs one,
// valid, not about to expire), and a token call with a code that cannot exist: PSC answers
// invalid_grant once it has accepted the client (id and secret, or certificate), invalid_client
// when it has not.
import { CERTIFICATE_WARNING_MS } from '../config/resolve-psc-production.js'
import type { GatewayConfig } from '../config/types.js'
import type { OutboundHttp } from '../oidc/outbound-http.js'
import type { DoctorCheck } from './doctor-check.js'
import { diagnose, isCertificateRefusal, tokenEndpointOf } from './doctor-tls.js'
import type { DoctorText } from './doctor-text.js'

const DOCTOR_CODE = 'psc-gateway-doctor-invalid-code'

export async function clientAuthCheck(
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

export function certificateCheck(psc: GatewayConfig['psc'], now: number, m: DoctorText): DoctorCheck {
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
