// Logout: end the local session (and PSC's, by RP-initiated logout), then the logged-out page.
// Another site must not be able to log a practitioner out (a cross-site <img> or form on
// /_psc/logout): a GET from another site gets a page with a button instead, a cross-site POST 403.
// During a session store outage the browser's cookie is cleared and the session is ended as soon
// as the store answers again.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AuditTrail } from '../audit/trail.js'
import type { GatewayConfig } from '../config/types.js'
import { PSC_ERR } from '../errors.js'
import { escapeHtml, PAGE_HEADERS, renderPage } from '../pages/html.js'
import { pageLanguage } from '../pages/language.js'
import { sendCode } from '../pages/respond.js'
import { sessionReference } from '../session/ids.js'
import type { SessionManager } from '../session/manager.js'
import { readRequestSession, type RequestSession } from '../session/request-session.js'
import { SessionStoreUnavailable } from '../session/store.js'
import { endpointScope } from './endpoint-scope.js'
import { logoutUrl } from '../oidc/login-flow.js'
import type { PscClient } from '../oidc/psc-client.js'

export interface LogoutOptions {
  config: GatewayConfig
  psc: PscClient
  sessions: SessionManager
  audit: AuditTrail
}

/** Fetch metadata a browser sends: the request comes from this origin, or from the user (typed, bookmark). */
function fromThisOriginOrUser(request: FastifyRequest): boolean | undefined {
  const site = request.headers['sec-fetch-site']
  if (site === undefined) return undefined
  return site === 'same-origin' || site === 'none'
}

export function registerLogout(app: FastifyInstance, opts: LogoutOptions): void {
  const { config, psc, sessions, audit } = opts
  const prefix = config.prefix
  const logoutPath = `${prefix}/logout`
  const origin = new URL(config.publicUrl).origin

  app.get(logoutPath, async (request, reply) => {
    // Without fetch metadata nothing proves where the request came from: ask.
    if (fromThisOriginOrUser(request) !== true) return confirm(request, reply)
    return logout(request, reply)
  })

  // The confirmation page's form (and a legacy application's logout form) posts
  // application/x-www-form-urlencoded, parsed in this scope only; its fields are not used.
  void app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 4096 },
      (_request, _body, done) => done(null, undefined),
    )
    scope.post(logoutPath, async (request, reply) => {
      const trusted = fromThisOriginOrUser(request)
      const requestOrigin = request.headers.origin
      // Browsers send Origin on every POST; a script or an old client without either header is not
      // a cross-site page acting in the practitioner's browser.
      const crossSite =
        trusted === false || (requestOrigin !== undefined && requestOrigin !== origin && trusted !== true)
      if (crossSite) {
        endpointScope(request, 'reject', {
          reason: PSC_ERR.CROSS_SITE.code,
          detail: `logout posted from ${String(requestOrigin ?? request.headers['sec-fetch-site'])}`,
        })
        return sendCode(request, reply, PSC_ERR.CROSS_SITE.code)
      }
      return logout(request, reply)
    })
  })

  function confirm(request: FastifyRequest, reply: FastifyReply): FastifyReply {
    endpointScope(request, 'allow')
    const lang = pageLanguage(request.headers['accept-language'])
    const page = renderPage({
      lang,
      title: lang === 'fr' ? 'Se déconnecter ?' : 'Log out?',
      paragraphs: [
        lang === 'fr'
          ? 'Confirmez pour fermer votre session sur cette application et sur Pro Santé Connect.'
          : 'Confirm to end your session on this application and on Pro Santé Connect.',
      ],
      requestId: request.id,
    }).replace(
      '</main>',
      `<form method="post" action="${escapeHtml(logoutPath)}"><button type="submit">${lang === 'fr' ? 'Se déconnecter' : 'Log out'}</button></form></main>`,
    )
    return reply.code(200).headers(PAGE_HEADERS).header('content-language', lang).send(page)
  }

  async function logout(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    reply.header('cache-control', 'no-store')
    // Two session cookies: which session is the practitioner's cannot be known. Ending none and
    // saying so beats clearing one cookie while a session stays alive and PSC is not told.
    if (sessions.cookies.read(request, config.session.cookieName).kind === 'duplicated') {
      endpointScope(request, 'reject', {
        reason: PSC_ERR.LOGOUT_DUPLICATE_SESSION_COOKIE.code,
        detail: 'session cookie sent twice: no session ended',
      })
      return sendCode(request, reply, PSC_ERR.LOGOUT_DUPLICATE_SESSION_COOKIE.code)
    }
    reply.clearCookie(config.session.cookieName, { path: '/' })
    let session: RequestSession
    try {
      session = await readRequestSession(request, config.session.cookieName, sessions)
    } catch (err) {
      if (!(err instanceof SessionStoreUnavailable)) throw err
      return logoutDuringOutage(request, reply, err.reason)
    }
    if (session.kind === 'alive' || session.kind === 'ended') await sessions.endEventually(session.id)
    if (session.kind === 'ended') {
      audit.record(request, { event: 'logout', cause: session.why, session: sessionReference(session.id) })
      audit.record(request, {
        event: 'session',
        outcome: 'ended',
        reason: session.why,
        session: sessionReference(session.id),
      })
    }
    if (session.kind !== 'alive') {
      endpointScope(request, 'allow')
      return reply.redirect(config.psc.postLogoutPath, 302)
    }
    const who = {
      session: sessionReference(session.id),
      idNat: session.record.identity.idNat,
      profession: session.record.identity.exercices[0]?.professionCode,
    }
    audit.record(request, { event: 'logout', cause: 'user', ...who })
    audit.record(request, { event: 'session', outcome: 'ended', reason: 'logout', ...who })
    endpointScope(request, 'allow', who)
    // An explicit disconnect ends the PSC session too (RP-initiated logout), when PSC is reachable.
    const configuration = psc.configuration
    const target = configuration
      ? logoutUrl(configuration, config.psc, session.record.idToken)
      : config.psc.postLogoutPath
    return reply.redirect(target, 302)
  }

  /** The store does not answer: the cookie is cleared now, the session ended when it answers again. */
  async function logoutDuringOutage(
    request: FastifyRequest,
    reply: FastifyReply,
    reason: string,
  ): Promise<FastifyReply> {
    const cookie = sessions.cookies.read(request, config.session.cookieName)
    const detail = `session store unavailable (${reason}): the session ends when the store answers again`
    if (cookie.kind === 'valid') {
      await sessions.endEventually(cookie.id)
      const ref = sessionReference(cookie.id)
      audit.record(request, { event: 'logout', cause: 'user', session: ref, reason: detail })
      audit.record(request, { event: 'session', outcome: 'ended', reason: 'logout', session: ref })
    }
    request.log.warn({ detail }, 'logout during a session store outage')
    endpointScope(request, 'allow', { detail })
    return reply.redirect(config.psc.postLogoutPath, 302)
  }

  app.get(config.psc.postLogoutPath, async (request, reply) => {
    endpointScope(request, 'allow')
    const lang = pageLanguage(request.headers['accept-language'])
    return reply
      .code(200)
      .headers(PAGE_HEADERS)
      .header('content-language', lang)
      .send(
        renderPage({
          lang,
          title: lang === 'fr' ? 'Vous êtes déconnecté' : 'You are logged out',
          paragraphs: [
            lang === 'fr'
              ? 'Votre session est fermée sur cette application. Sur un poste partagé, fermez aussi le navigateur.'
              : 'Your session on this application is closed. On a shared workstation, close the browser too.',
          ],
          links: [{ href: `${prefix}/login`, label: lang === 'fr' ? 'Se reconnecter' : 'Log in again' }],
        }),
      )
  })
}
