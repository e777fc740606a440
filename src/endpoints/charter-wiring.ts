// The IT charter's parts, joined: the acceptances in the session store, the check the gate and
// forward-auth run, and the charter's page. Nothing when no charter is configured.
import type { FastifyInstance } from 'fastify'
import type { AuditTrail } from '../audit/trail.js'
import type { GatewayConfig } from '../config/types.js'
import { CharterAcceptances } from '../session/charter-acceptance.js'
import type { SessionManager } from '../session/manager.js'
import { CharterRequirement } from './charter-requirement.js'
import { registerCharterRoutes } from './charter-routes.js'

export function registerCharter(
  app: FastifyInstance,
  o: { config: GatewayConfig; sessions: SessionManager; audit: AuditTrail; now: () => number },
): CharterRequirement | undefined {
  const charter = o.config.charter
  if (charter === undefined) return undefined
  const acceptances = new CharterAcceptances(o.sessions.store, charter.rememberMs, o.now)
  registerCharterRoutes(app, { config: o.config, charter, sessions: o.sessions, acceptances, audit: o.audit })
  return new CharterRequirement(charter, acceptances)
}
