// The IT charter's page, under the reserved prefix:
//   GET  <prefix>/charter?rd=/page   the charter in force and its "accept" button (logged in only)
//   POST <prefix>/charter            the acceptance: from this origin only (as the gateway's other
//                                    forms), for the version in force; audited, kept in the session
//                                    store, then 303 to the page asked for
import { readFileSync } from 'node:fs'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AuditTrail } from '../audit/trail.js'
import type { CharterSettings, GatewayConfig } from '../config/types.js'
import { PSC_ERR } from '../errors.js'
import { CHARTER_PAGE_HEADERS, charterPage } from '../pages/charter-page.js'
import { charterTextHtml } from '../pages/charter-text.js'
import { pageLanguage } from '../pages/language.js'
import { sendCode } from '../pages/respond.js'
import { safeReturnPath } from '../policy/return-path.js'
import type { CharterAcceptances } from '../session/charter-acceptance.js'
import type { SessionManager } from '../session/manager.js'
import { readRequestSession, type RequestSession } from '../session/request-session.js'
import { SessionStoreUnavailable } from '../session/store.js'
import { LOGO_PATH } from './branding-routes.js'
import { endpointScope } from './endpoint-scope.js'

export interface CharterRoutesOptions {
  config: GatewayConfig
  charter: CharterSettings
  sessions: SessionManager
  acceptances: CharterAcceptances
  audit: AuditTrail
}

type Alive = RequestSession & { kind: 'alive' }

export function registerCharterRoutes(app: FastifyInstance, opts: CharterRoutesOptions): void {
  const { config, charter, sessions, acceptances, audit } = opts
  const prefix = config.prefix
  const charterPath = `${prefix}/charter`
  // Read once: the file was checked at start-up, a new text comes with a new version and a restart.
  const textHtml = charter.file === undefined ? undefined : charterTextHtml(readFileSync(charter.file, 'utf8'))
  const loginHref = (rd: string) => `${prefix}/login?rd=${encodeURIComponent(rd)}`

  /** The session, or the answer already sent (store down: 503; none: to the login). */
  async function sessionOf(request: FastifyRequest, reply: FastifyReply, rd: string, status: 302 | 303) {
    let session: RequestSession
    try {
      session = await readRequestSession(request, config.session.cookieName, sessions)
    } catch (err) {
      if (!(err instanceof SessionStoreUnavailable)) throw err
      endpointScope(request, 'reject', { reason: PSC_ERR.STORE_UNAVAILABLE.code, detail: err.reason })
      return sendCode(request, reply, PSC_ERR.STORE_UNAVAILABLE.code)
    }
    if (session.kind === 'alive') return session
    endpointScope(request, 'login', { reason: PSC_ERR.LOGIN_REQUIRED.code })
    return reply.redirect(loginHref(rd), status)
  }

  function who(session: Alive) {
    const identity = session.record.identity
    return { session: session.record.ref, idNat: identity.idNat, profession: identity.exercices[0]?.professionCode }
  }

  app.get(charterPath, async (request, reply) => {
    reply.header('cache-control', 'no-store')
    const rd = safeReturnPath((request.query as Record<string, unknown>).rd) ?? '/'
    const session = await sessionOf(request, reply, rd, 302)
    if (!('kind' in session)) return session
    let accepted: boolean
    try {
      accepted = await acceptances.accepted(session.record.identity.idNat, charter.version)
    } catch (err) {
      if (!(err instanceof SessionStoreUnavailable)) throw err
      endpointScope(request, 'reject', { reason: PSC_ERR.STORE_UNAVAILABLE.code, detail: err.reason, ...who(session) })
      return sendCode(request, reply, PSC_ERR.STORE_UNAVAILABLE.code)
    }
    endpointScope(request, 'allow', who(session))
    if (accepted) return reply.redirect(rd, 302)
    const lang = pageLanguage(request.headers['accept-language'])
    return reply
      .headers(CHARTER_PAGE_HEADERS)
      .header('content-language', lang)
      .send(
        charterPage(lang, {
          version: charter.version,
          ...(textHtml !== undefined && { textHtml }),
          ...(charter.url !== undefined && { url: charter.url }),
          action: charterPath,
          rd,
          logoutHref: `${prefix}/logout`,
          branding: config.branding,
          logoHref: `${prefix}${LOGO_PATH}`,
        }),
      )
  })

  /** A form posted from another site must not accept the charter in the practitioner's name. */
  function fromOurOwnPage(request: FastifyRequest): boolean {
    const origin = request.headers.origin
    if (typeof origin === 'string') return origin === config.publicUrl
    return request.headers['sec-fetch-site'] === 'same-origin'
  }

  void app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 4096 },
      (_req, body, done) => done(null, new URLSearchParams(body as string)),
    )
    scope.post(charterPath, async (request, reply) => {
      reply.header('cache-control', 'no-store')
      const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams()
      const rd = safeReturnPath(form.get('rd')) ?? '/'
      if (!fromOurOwnPage(request)) {
        endpointScope(request, 'reject', {
          reason: PSC_ERR.CROSS_SITE.code,
          detail: `charter acceptance posted from ${String(request.headers.origin ?? request.headers['sec-fetch-site'])}`,
        })
        return sendCode(request, reply, PSC_ERR.CROSS_SITE.code)
      }
      const session = await sessionOf(request, reply, rd, 303)
      if (!('kind' in session)) return session
      // The page was read under another version: show the one in force.
      if (form.get('version') !== charter.version) {
        endpointScope(request, 'login', {
          reason: PSC_ERR.CHARTER_REQUIRED.code,
          detail: `charter version ${JSON.stringify(form.get('version') ?? '')} posted, ${charter.version} in force`,
          ...who(session),
        })
        return reply.redirect(`${charterPath}?rd=${encodeURIComponent(rd)}`, 303)
      }
      const idNat = session.record.identity.idNat
      try {
        await acceptances.accept(idNat, charter.version)
      } catch (err) {
        if (!(err instanceof SessionStoreUnavailable)) throw err
        endpointScope(request, 'reject', {
          reason: PSC_ERR.STORE_UNAVAILABLE.code,
          detail: err.reason,
          ...who(session),
        })
        return sendCode(request, reply, PSC_ERR.STORE_UNAVAILABLE.code)
      }
      endpointScope(request, 'allow', who(session))
      audit.record(request, { event: 'charter', outcome: 'accepted', charterVersion: charter.version, ...who(session) })
      request.log.info({ charterVersion: charter.version }, 'IT charter accepted')
      return reply.redirect(rd, 303)
    })
  })
}
