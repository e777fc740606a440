// Reads the session that a request's cookie points at, once per request.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { LoadedSession, SessionManager } from './manager.js'
import type { SessionRecord } from './store.js'
import { setCookieNow, type OwnCookieOptions } from './cookies.js'

export type RequestSession =
  | { kind: 'none' }
  | { kind: 'invalid'; problem: string }
  | { kind: 'duplicated' }
  | { kind: 'ended'; id: string; why: 'idle-expired' | 'absolute-expired'; sessionDurationMs: number }
  | { kind: 'alive'; id: string; record: SessionRecord; signedWithOldSecret: boolean }

/** Without a promise when the store answered at once (the memory store, on every request). */
export function readRequestSession(
  request: FastifyRequest,
  cookieName: string,
  sessions: SessionManager,
): RequestSession | Promise<RequestSession> {
  const cookie = sessions.cookies.read(request, cookieName)
  if (cookie.kind !== 'valid') return cookie
  const loaded = sessions.load(cookie.id, { client: request.ip, route: pathOf(request.url) })
  return loaded instanceof Promise ? loaded.then((l) => fromLoaded(cookie, l)) : fromLoaded(cookie, loaded)
}

function fromLoaded(cookie: { id: string; signedWithOldSecret: boolean }, loaded: LoadedSession): RequestSession {
  // the manager's shared, frozen "no session"
  if (loaded.kind === 'none') return loaded
  if (loaded.kind === 'ended')
    return { kind: 'ended', id: cookie.id, why: loaded.why, sessionDurationMs: loaded.sessionDurationMs }
  return { kind: 'alive', id: cookie.id, record: loaded.record, signedWithOldSecret: cookie.signedWithOldSecret }
}

/** After a secret rotation, cookies signed with an older secret are re-signed with the first one. */
export function renewCookieIfNeeded(
  reply: FastifyReply,
  session: RequestSession,
  cookieName: string,
  options: OwnCookieOptions,
): void {
  if (session.kind === 'alive' && session.signedWithOldSecret) setCookieNow(reply, cookieName, session.id, options)
}

/** The path of a request without its query (which may name a patient), cut to a readable length. */
function pathOf(url: string): string {
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  return path.length > 200 ? `${path.slice(0, 200)}…` : path
}
