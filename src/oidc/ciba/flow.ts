// The CIBA steps with PSC, on openid-client v6 (poll mode): ask PSC to push a notification to the
// practitioner's e-CPS app, then poll the token endpoint until they answer. No fastify here.
//
// Client authentication is the Configuration's (psc-client.ts): a client secret today. ANS asks CIBA
// clients in production for tls_client_auth (mTLS): that comes with the Configuration built for
// mTLS, nothing here changes.
import { randomInt } from 'node:crypto'
import * as oidc from 'openid-client'
import type { CibaSettings, GatewayConfig } from '../../config/types.js'

export type BackchannelRequest = oidc.BackchannelAuthenticationResponse

/** A fresh code per request, to compare at a glance with the phone; never derived from anything. */
export function newBindingMessage(style: CibaSettings['bindingMessage']): string {
  const digits = style === 'four-digits' ? 4 : 2
  return String(randomInt(0, 10 ** digits)).padStart(digits, '0')
}

export async function askForApproval(
  configuration: oidc.Configuration,
  psc: GatewayConfig['psc'],
  idNat: string,
  bindingMessage: string,
): Promise<BackchannelRequest> {
  return oidc.initiateBackchannelAuthentication(configuration, {
    scope: psc.scope,
    acr_values: psc.acr,
    login_hint: idNat,
    binding_message: bindingMessage,
    // PSC's own parameter: where the notification goes (MOBILE: the e-CPS app)
    channel: psc.ciba.channel,
  })
}

/**
 * Polls until the practitioner answers, honouring `interval`, `authorization_pending` and
 * `slow_down` (openid-client adds 5 s to the interval at each slow_down). Throws ResponseBodyError
 * (access_denied, expired_token, ...), a TimeoutError when `expires_in` passes, an AbortError when
 * `signal` aborts, a TypeError when PSC cannot be reached.
 */
export function waitForApproval(configuration: oidc.Configuration, request: BackchannelRequest, signal: AbortSignal) {
  // An interval of 0 (or none) would make us hammer PSC: at least 1 s, 5 s when PSC says nothing.
  const interval = Math.max(
    1,
    typeof request.interval === 'number' && Number.isFinite(request.interval) ? request.interval : 5,
  )
  return oidc.pollBackchannelAuthenticationGrant(configuration, { ...request, interval }, undefined, { signal })
}
