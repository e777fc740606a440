// The login-transaction cookie: the logins this browser has started and not finished (state,
// nonce, PKCE verifier, where to come back), signed, short-lived.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { GatewayConfig } from '../config/types.js'
import { requestCookies } from '../session/request-cookies.js'
import {
  addTransaction,
  decodeTransactions,
  encodeTransactions,
  takeTransaction,
  type LoginTransaction,
} from './transaction.js'

export function loginTransactionCookieName(secure: boolean): string {
  return secure ? '__Host-psc_login' : 'psc_login'
}

export class LoginTransactions {
  readonly #name: string
  readonly #options: { path: string; httpOnly: boolean; sameSite: 'lax'; secure: boolean; signed: boolean }
  readonly #maxAgeSeconds: number

  constructor(
    config: GatewayConfig,
    private readonly now: () => number,
  ) {
    this.#name = loginTransactionCookieName(config.secure)
    this.#options = { path: '/', httpOnly: true, sameSite: 'lax', secure: config.secure, signed: true }
    this.#maxAgeSeconds = Math.ceil(config.session.loginTimeoutMs / 1000)
  }

  read(request: FastifyRequest): LoginTransaction[] {
    const raw = requestCookies(request)[this.#name]
    if (!raw) return []
    const unsigned = request.unsignCookie(raw)
    return unsigned.valid && unsigned.value !== null ? decodeTransactions(unsigned.value, this.now()) : []
  }

  add(request: FastifyRequest, reply: FastifyReply, transaction: LoginTransaction): void {
    this.#write(reply, addTransaction(this.read(request), transaction, this.now()))
  }

  /** The login this state belongs to, removed from the cookie; undefined when none matches. */
  take(request: FastifyRequest, reply: FastifyReply, state: string): LoginTransaction | undefined {
    const pending = this.read(request)
    const { found, rest } = takeTransaction(pending, state)
    if (found) this.#write(reply, rest)
    return found
  }

  #write(reply: FastifyReply, list: LoginTransaction[]): void {
    if (list.length === 0) reply.clearCookie(this.#name, { path: '/' })
    else reply.setCookie(this.#name, encodeTransactions(list), { ...this.#options, maxAge: this.#maxAgeSeconds })
  }
}
