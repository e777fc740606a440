// The security team's session API on the admin listener: list the live sessions, end one or every
// session of a practitioner. Behind a bearer token read from a file; every call is audited.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AuditTrail } from '../audit/trail.js'
import { pageLanguage } from '../pages/language.js'
import type { SessionManager } from '../session/manager.js'
import { SessionStoreUnavailable, type SessionSummary } from '../session/store.js'
import { checkAdminToken, type AdminTokenSettings } from './admin-token.js'

export interface SessionApiDeps {
  sessions: SessionManager
  audit: AuditTrail
  token: AdminTokenSettings
}

type Action = 'sessions-listed' | 'session-revoked' | 'practitioner-sessions-revoked'

const MESSAGES = {
  off: {
    fr: "L'API des sessions est désactivée : renseignez admin.tokenFile (un fichier contenant le jeton) puis redémarrez.",
    en: 'The session API is off: set admin.tokenFile (a file holding the token) and restart.',
  },
  unauthorized: {
    fr: "Jeton d'administration absent ou refusé. Envoyez l'en-tête Authorization: Bearer <jeton>.",
    en: 'Admin token missing or refused. Send the header Authorization: Bearer <token>.',
  },
  unreadable: {
    fr: "Le fichier du jeton d'administration est illisible : aucune requête n'est acceptée tant qu'il ne l'est pas. Détail dans l'audit.",
    en: 'The admin token file cannot be read: no call is accepted until it can. Detail in the audit trail.',
  },
  badPractitioner: {
    fr: 'Praticien attendu : un idNat (ex. 810001234567) ou un numéro RPPS à 11 chiffres.',
    en: 'Expected a practitioner: an idNat (e.g. 810001234567) or an 11-digit RPPS number.',
  },
  noSuchSession: {
    fr: 'Aucune session en cours avec cette référence (déjà terminée, ou référence inexacte).',
    en: 'No live session has this reference (already ended, or a wrong reference).',
  },
  storeDown: {
    fr: "Le stockage des sessions ne répond pas : rien n'a été fait. Réessayez dans un instant.",
    en: 'The session store does not answer: nothing was done. Try again in a moment.',
  },
} as const

/** idNat as given, or the idNat of an RPPS number ("8" + its 11 digits). */
export function practitionerIdNat(value: string): string | undefined {
  if (/^[0-9]{11}$/.test(value)) return `8${value}`
  return /^[A-Za-z0-9/_.-]{1,64}$/.test(value) ? value : undefined
}

export function registerSessionApi(admin: FastifyInstance, deps: SessionApiDeps): void {
  const { sessions, audit } = deps
  const say = (request: FastifyRequest, key: keyof typeof MESSAGES) =>
    MESSAGES[key][pageLanguage(request.headers['accept-language'])]

  /** Checks the token; answers and audits a refusal itself. The token's name when allowed. */
  const allowed = (request: FastifyRequest, reply: FastifyReply, action: Action): string | undefined => {
    const check = checkAdminToken(deps.token, request.headers.authorization)
    if (check.ok) return check.name
    const refusal = { action, outcome: 'refused' as const, reason: check.reason }
    record(audit, request, refusal)
    reply.header('cache-control', 'no-store')
    if (check.why === 'off') reply.code(404).send({ error: 'session_api_off', message: say(request, 'off') })
    else if (check.why === 'unreadable')
      reply.code(503).send({ error: 'admin_token_unreadable', message: say(request, 'unreadable') })
    else
      reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'unauthorized', message: say(request, 'unauthorized') })
    return undefined
  }

  const failed = (request: FastifyRequest, reply: FastifyReply, action: Action, by: string, err: unknown) => {
    if (!(err instanceof SessionStoreUnavailable)) throw err
    record(audit, request, { action, outcome: 'failed', by, reason: err.reason })
    return reply
      .code(503)
      .header('cache-control', 'no-store')
      .send({ error: 'session_store_unavailable', message: say(request, 'storeDown') })
  }

  admin.get('/sessions', async (request, reply) => {
    const by = allowed(request, reply, 'sessions-listed')
    if (by === undefined) return reply
    const asked = practitionerOf(request)
    if (asked === null)
      return reply.code(400).send({ error: 'bad_practitioner', message: say(request, 'badPractitioner') })
    try {
      const list = await sessions.list(asked === undefined ? {} : { idNat: asked })
      list.sort((a, b) => b.lastSeenAt - a.lastSeenAt)
      record(audit, request, {
        action: 'sessions-listed',
        outcome: 'done',
        by,
        sessionsListed: list.length,
        ...(asked !== undefined && { idNat: asked }),
      })
      return reply.header('cache-control', 'no-store').send({ sessions: list.map(shown) })
    } catch (err) {
      return failed(request, reply, 'sessions-listed', by, err)
    }
  })

  admin.delete<{ Params: { ref: string } }>('/sessions/:ref', async (request, reply) => {
    const by = allowed(request, reply, 'session-revoked')
    if (by === undefined) return reply
    const ref = request.params.ref
    try {
      const ended = /^[A-Za-z0-9_-]{16}$/.test(ref) ? await sessions.revoke({ ref }) : []
      revoked(audit, request, { action: 'session-revoked', by, session: ref }, ended)
      if (ended.length === 0)
        return reply.code(404).send({ error: 'no_such_session', message: say(request, 'noSuchSession') })
      return reply.header('cache-control', 'no-store').send({ revoked: ended.map(shown) })
    } catch (err) {
      return failed(request, reply, 'session-revoked', by, err)
    }
  })

  admin.delete('/sessions', async (request, reply) => {
    const by = allowed(request, reply, 'practitioner-sessions-revoked')
    if (by === undefined) return reply
    const idNat = practitionerOf(request)
    // Never "every session of everyone" by leaving the filter out.
    if (idNat === null || idNat === undefined)
      return reply.code(400).send({ error: 'bad_practitioner', message: say(request, 'badPractitioner') })
    try {
      const ended = await sessions.revoke({ idNat })
      revoked(audit, request, { action: 'practitioner-sessions-revoked', by, idNat }, ended)
      return reply.header('cache-control', 'no-store').send({ revoked: ended.map(shown) })
    } catch (err) {
      return failed(request, reply, 'practitioner-sessions-revoked', by, err)
    }
  })
}

/** ?practitioner= (idNat or RPPS): undefined when absent, null when malformed. */
function practitionerOf(request: FastifyRequest): string | undefined | null {
  const value = (request.query as Record<string, unknown>).practitioner
  if (value === undefined) return undefined
  return typeof value === 'string' ? (practitionerIdNat(value) ?? null) : null
}

/** Dates as ISO 8601 for people and scripts alike. */
function shown(s: SessionSummary): Record<string, unknown> {
  return { ...s, createdAt: new Date(s.createdAt).toISOString(), lastSeenAt: new Date(s.lastSeenAt).toISOString() }
}

interface AdminFacts {
  action: Action
  outcome: 'done' | 'refused' | 'failed'
  by?: string
  idNat?: string
  session?: string
  sessionsEnded?: string[]
  sessionsListed?: number
  reason?: string
}

function record(audit: AuditTrail, request: FastifyRequest, facts: AdminFacts): void {
  void audit.write({ event: 'admin', client: request.ip, requestId: request.id, ...facts })
}

/** The admin event, and a session event for each session ended (as every other end is audited). */
function revoked(
  audit: AuditTrail,
  request: FastifyRequest,
  facts: Omit<AdminFacts, 'outcome'> & { by: string },
  ended: SessionSummary[],
): void {
  record(audit, request, { ...facts, outcome: 'done', sessionsEnded: ended.map((s) => s.ref) })
  const now = Date.now()
  for (const s of ended)
    void audit.write({
      event: 'session',
      outcome: 'ended',
      reason: 'admin-revoked',
      session: s.ref,
      idNat: s.idNat,
      sessionDurationMs: Math.max(0, now - s.createdAt),
      client: request.ip,
      requestId: request.id,
    })
}
