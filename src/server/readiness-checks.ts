// What the admin listener's /readyz reports, one check per part the gateway depends on.
import type { AccountResolver } from '../accounts/resolver.js'
import type { AuditOutput } from '../audit/sinks.js'
import type { PscClient } from '../oidc/psc-client.js'
import { accountDirectoryCheck } from '../ops/account-directory.js'
import type { ReadinessCheck } from '../ops/admin.js'
import type { Drain } from '../ops/drain.js'
import { sessionStoreCheck } from '../ops/readiness.js'
import type { SessionManager } from '../session/manager.js'
import type { Routing } from './gateway-lifecycle.js'
import { PSC_ERR_CLIENT_CERTIFICATE_REFUSED } from '../errors.js'

export function readinessChecks({
  psc,
  routing,
  sessions,
  auditOutput,
  drain,
  accounts,
}: {
  psc: PscClient
  routing: Routing
  sessions: SessionManager
  auditOutput: AuditOutput
  drain: Drain
  accounts: AccountResolver | undefined
}): ReadinessCheck[] {
  return [
    // A client certificate PSC refuses is shared by every replica: reported, not a reason to take
    // them all out of the Service (public routes are still served, logins get their own page).
    {
      name: 'psc',
      check: () =>
        psc.status.ready
          ? { ok: true }
          : {
              ok: false,
              reason: psc.status.reason,
              ...(psc.status.code === PSC_ERR_CLIENT_CERTIFICATE_REFUSED && { reportOnly: true }),
            },
    },
    ...heldChecks({ routing, sessions, auditOutput, drain }),
    ...(accounts !== undefined ? [{ name: 'accounts', check: () => accountDirectoryCheck(accounts) }] : []),
  ]
}

/**
 * The checks of what a process holds itself: its configuration, its session store, its audit
 * outputs, its shutdown. A cluster's primary holds these for its workers (and asks them the rest).
 */
export function heldChecks({
  routing,
  sessions,
  auditOutput,
  drain,
}: {
  routing: Routing
  sessions: SessionManager
  auditOutput: AuditOutput
  drain: Drain
}): ReadinessCheck[] {
  return [
    {
      name: 'config',
      check: () => {
        const state = routing.current()
        return { ok: true, reason: `${state.config.source}: ${state.routes.routes.length} routes` }
      },
    },
    { name: 'sessions', check: () => sessionStoreCheck(sessions.store) },
    { name: 'audit', check: () => auditOutput.health() },
    { name: 'lifecycle', check: () => (drain.closing ? { ok: false, reason: 'shutting down' } : { ok: true }) },
  ]
}
