// Polling PSC for the practitioner's answer to one CIBA request, until it is approved (the session
// fields made from the tokens), refused, expired or given up, or PSC fails: a PSC out of reach is
// polled again a few times before the request fails.
import * as oidc from 'openid-client'
import type { GatewayConfig } from '../../config/types.js'
import { PSC_ERR } from '../../errors.js'
import { describeOidcError, isUpstreamFailure, LoginFailure } from '../login-failure.js'
import { sessionFieldsFromTokens } from '../session-start.js'
import { waitForApproval, type BackchannelRequest } from './flow.js'
import type { CibaLimits } from './push-limits.js'
import type { CibaFailure, CibaRequest } from './request.js'

/** consecutive failures to reach PSC while polling before the request is given up */
const MAX_UNREACHABLE = 3

export interface PollDeps {
  config: GatewayConfig
  limits: CibaLimits
  log: { warn(obj: object, msg: string): void }
  now: () => number
}

/** Ends the request with a failure and its reason. */
export function failRequest(r: CibaRequest, failure: CibaFailure, reason: string): void {
  r.state = 'failed'
  r.failure = failure
  r.reason = reason
}

/** Sets `r`'s outcome; `signal` ends the wait (the browser gave up, or the request expired). */
export async function pollUntilAnswered(
  r: CibaRequest & { abort: AbortController },
  configuration: oidc.Configuration,
  backchannel: BackchannelRequest,
  signal: AbortSignal,
  deps: PollDeps,
): Promise<void> {
  const { limits, log, config, now } = deps
  let unreachable = 0
  for (;;) {
    try {
      const tokens = await waitForApproval(configuration, backchannel, signal)
      r.fields = await sessionFieldsFromTokens(configuration, config.psc, tokens, now())
      r.state = 'approved'
      break
    } catch (err) {
      if (r.abort.signal.aborted) {
        failRequest(r, 'cancelled', 'given up in the browser')
        break
      }
      if (err instanceof oidc.ResponseBodyError) {
        if (err.error === 'access_denied') {
          failRequest(r, 'denied', describeOidcError(err))
          await limits
            .refused(r.idNat)
            .catch((e: unknown) => log.warn({ err: describeOidcError(e) }, 'CIBA: could not record the cool-down'))
        } else if (err.error === 'expired_token') {
          failRequest(r, 'expired', describeOidcError(err))
        } else {
          failRequest(r, err.status >= 500 ? 'psc_unavailable' : 'failed', describeOidcError(err))
        }
        break
      }
      if (signal.aborted || (err instanceof Error && err.name === 'TimeoutError' && now() >= r.expiresAt)) {
        failRequest(r, 'expired', 'no answer before the request expired')
        break
      }
      if (err instanceof LoginFailure) {
        failRequest(
          r,
          err.code === PSC_ERR.LOGIN_PSC_UNREACHABLE.code || err.code === PSC_ERR.LOGIN_OUTBOUND_PROXY.code
            ? 'psc_unavailable'
            : 'failed',
          `${err.code}: ${err.detail}`,
        )
        break
      }
      if (isUpstreamFailure(err) && ++unreachable < MAX_UNREACHABLE && now() < r.expiresAt) {
        log.warn(
          { cibaRequest: r.ref, attempt: unreachable, reason: describeOidcError(err) },
          'CIBA: PSC unreachable while polling; polling again',
        )
        continue
      }
      failRequest(
        r,
        isUpstreamFailure(err) ? 'psc_unavailable' : 'failed',
        `${isUpstreamFailure(err) ? 'PSC unreachable while polling: ' : ''}${describeOidcError(err)}`,
      )
      break
    }
  }
}
