// Reads the session that a request's cookie points at, once per request.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { SessionManager } from './manager.js'
import type { SessionRecord } from './store.js'

export type RequestSession =
  | { kind: 'none' }
  | { kind: 'invalid'; problem: string }
  | { kind: 'ended'; id: string; why: 'idle-expired' | 'absolute-expired' }
  | { kind: 'alive'; id: string; record: SessionRecord; signedWithOldSecret: boolean }

export async function readRequestSession(request: FastifyRequest, cookieName: string, sessions: SessionManager): Promise<RequestSession> {
  const cookie = sessions.cookies.read(request, cookieName)
  if (cookie.kind !== 'valid') return cookie
  const loaded = await sessions.load(cookie.id)
  if (loaded.kind === 'none') return { kind: 'none' }
  if (loaded.kind === 'ended') return { kind: 'ended', id: cookie.id, why: loaded.why }
  return { kind: 'alive', id: cookie.id, record: loaded.record, signedWithOldSecret: cookie.signedWithOldSecret }
}

/** After a secret rotation, cookies signed with an older secret are re-signed with the first one. */
export function renewCookieIfNeeded(reply: FastifyReply, session: RequestSession, cookieName: string, options: object): void {
  if (session.kind === 'alive' && session.signedWithOldSecret) reply.setCookie(cookieName, session.id, options)
}
