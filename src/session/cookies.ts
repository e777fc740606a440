// The session cookie: a random id signed with the first configured secret, verified with any of
// them and with the accepted ones (key rotation). @fastify/cookie does the HMAC; this file decides
// what a valid cookie is.
import type { CookieSerializeOptions } from '@fastify/cookie'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { LRUCache } from 'lru-cache'
import { isWellFormedSessionId } from './ids.js'
import { requestCookies } from './request-cookies.js'

export interface CookieSettings {
  secure: boolean
  maxAgeSeconds: number
}

/** Options of a cookie the gateway writes itself: never "auto" (ours say whether they are Secure). */
export type OwnCookieOptions = CookieSerializeOptions & { secure?: boolean }

export function sessionCookieOptions(s: CookieSettings): OwnCookieOptions {
  // __Host- cookies must be Secure, Path=/ and have no Domain: the browser enforces that nobody
  // on a sibling sub-domain can plant or overwrite ours.
  return { path: '/', httpOnly: true, sameSite: 'lax', secure: s.secure, signed: true, maxAge: s.maxAgeSeconds }
}

/**
 * Sets a cookie on the reply's headers at once, as @fastify/cookie's setCookie would have written it
 * (SameSite=Lax unless said, signed when asked). setCookie waits for fastify's onSend hook, which a
 * forwarded answer (written straight to Node's response, proxy/upstream-exchange.ts) never runs:
 * the cookies the gate sets before forwarding go through here.
 */
export function setCookieNow(reply: FastifyReply, name: string, value: string, options: OwnCookieOptions): void {
  const opts = { sameSite: 'lax' as const, ...options }
  reply.header('set-cookie', reply.server.serializeCookie(name, opts.signed ? reply.signCookie(value) : value, opts))
}

/** Clears a cookie at once (as @fastify/cookie's clearCookie, path "/"): see setCookieNow. */
export function clearCookieNow(reply: FastifyReply, name: string): void {
  setCookieNow(reply, name, '', { path: '/', expires: new Date(0), maxAge: 0 })
}

/**
 * The secrets handed to @fastify/cookie, which signs with the first and verifies with all. The
 * accepted secrets come last, so they never sign: during a rotation across replicas every replica
 * first learns to verify the next secret, and only then does any replica sign with it.
 */
export function cookieSecrets(s: { secrets: string[]; acceptedSecrets?: string[] }): string[] {
  return [...s.secrets, ...(s.acceptedSecrets ?? [])]
}

export type CookieReading =
  | { kind: 'none' }
  | { kind: 'invalid'; problem: string }
  /** the cookie came twice (one planted on another path or a parent domain): neither is believed */
  | { kind: 'duplicated' }
  | { kind: 'valid'; id: string; signedWithOldSecret: boolean }

/** Longer than any id we sign: a cookie this long was not made by us. */
const MAX_SIGNED_LENGTH = 256

/**
 * Cookies whose signature this gateway already verified, by their exact text. A browser sends the
 * same cookie on every request: checking its HMAC once, not on each request, takes the one
 * cryptographic operation off the request path. Only valid readings are kept (a flood of forged
 * cookies costs what it costs without the cache), the cache is bounded, and it belongs to one
 * gateway, so one set of secrets.
 */
export class VerifiedCookies {
  // The readings themselves are kept (frozen, shared by every request that sends the cookie).
  readonly #cache = new LRUCache<string, Readonly<CookieReading>>({ max: 20_000 })

  read(request: FastifyRequest, cookieName: string): CookieReading {
    const raw = requestCookies(request)[cookieName]
    if (raw === undefined || raw === '') return NO_COOKIE
    if (occursTwice(request.headers.cookie, cookieName)) return DUPLICATED
    const known = this.#cache.get(raw)
    if (known !== undefined) return known
    const reading = readSignedId(request, cookieName)
    if (reading.kind === 'valid') this.#cache.set(raw, Object.freeze(reading))
    return reading
  }
}

const NO_COOKIE: CookieReading = Object.freeze({ kind: 'none' })
const DUPLICATED: CookieReading = Object.freeze({ kind: 'duplicated' })

/**
 * Whether the Cookie header names this cookie more than once. A browser sends one cookie per
 * (name, domain, path): a second one was planted (another path, a parent domain over plain http)
 * and the parser would silently keep the first. Two indexOf calls on the usual header.
 */
export function occursTwice(header: string | string[] | undefined, name: string): boolean {
  if (typeof header !== 'string') return false
  const first = cookieAt(header, name, 0)
  return first !== -1 && cookieAt(header, name, first + name.length) !== -1
}

/** Index of `name=` at a cookie boundary (start, or after ";" and spaces), from `from`; -1 if none. */
function cookieAt(header: string, name: string, from: number): number {
  for (let i = header.indexOf(name, from); i !== -1; i = header.indexOf(name, i + 1)) {
    if (header.charCodeAt(i + name.length) !== 61) continue // "="
    let j = i - 1
    while (j >= 0 && (header.charCodeAt(j) === 32 || header.charCodeAt(j) === 9)) j--
    if (j < 0 || header.charCodeAt(j) === 59) return i // start, or ";"
  }
  return -1
}

export function readSignedId(request: FastifyRequest, cookieName: string): CookieReading {
  const raw = requestCookies(request)[cookieName]
  if (raw === undefined || raw === '') return { kind: 'none' }
  if (raw.length > MAX_SIGNED_LENGTH) return { kind: 'invalid', problem: 'oversized session cookie' }
  const unsigned = request.unsignCookie(raw)
  if (!unsigned.valid || unsigned.value === null) return { kind: 'invalid', problem: 'bad session cookie signature' }
  if (!isWellFormedSessionId(unsigned.value)) return { kind: 'invalid', problem: 'malformed session id' }
  return { kind: 'valid', id: unsigned.value, signedWithOldSecret: unsigned.renew }
}
