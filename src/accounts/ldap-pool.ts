// A few bound connections to the directory, reused across logins: a bind per login would double
// the round trips and load a domain controller for nothing. A connection that failed, or that the
// server closed, is thrown away (ldapts would otherwise reconnect it unauthenticated); the pool
// watches its sockets so that a directory that died is noticed at once, not at the next timeout.
import { readFileSync } from 'node:fs'
import type { Socket } from 'node:net'
import type { ConnectionOptions } from 'node:tls'
import { Client } from 'ldapts'
import type { LdapSettings } from '../config/types.js'

export class DirectoryTimeout extends Error {
  constructor(ms: number) {
    super(`the directory did not answer within ${ms} ms`)
    this.name = 'DirectoryTimeout'
  }
}

/** TLS options: the hospital's CA when given (the system's otherwise), always verified. */
export function tlsOptionsFor(settings: Pick<LdapSettings, 'url' | 'caFile'>): ConnectionOptions {
  const host = new URL(settings.url).hostname
  return {
    minVersion: 'TLSv1.2',
    rejectUnauthorized: true,
    servername: /^[0-9.]+$|^\[/.test(host) ? undefined : host,
    ...(settings.caFile !== undefined && { ca: readFileSync(settings.caFile) }),
  }
}

/**
 * A connected and bound client; throws what the directory answered (bad password, TLS, refused).
 * `onLost` is called once the connection closes, whatever the side that closed it.
 */
export async function connectBound(
  settings: LdapSettings,
  tls: ConnectionOptions,
  onLost?: () => void,
): Promise<Client> {
  const client = new Client({
    url: settings.url,
    timeout: settings.timeoutMs,
    connectTimeout: settings.timeoutMs,
    strictDN: false,
    ...(settings.url.startsWith('ldaps://') && { tlsOptions: tls }),
  })
  // ldapts writes the plain socket into the options it is given for StartTLS: a copy, so the
  // shared options keep no socket, and the plain socket can be watched.
  const upgrade: ConnectionOptions = { ...tls }
  try {
    if (settings.startTls) await client.startTLS(upgrade)
    await client.bind(settings.bindDn, settings.bindPassword)
    if (onLost !== undefined)
      watchSockets([(client as unknown as { socket?: Socket }).socket, upgrade.socket as Socket | undefined], onLost)
    return client
  } catch (err) {
    discard(client)
    throw err
  }
}

/**
 * After StartTLS, ldapts listens for "close" on the plain socket but keeps the TLS one: when the
 * server dies without a TLS close_notify (a crash, a reboot), it still believes itself connected
 * and the next search waits for its timeout on a dead socket. Either socket ending ends the client.
 */
function watchSockets(sockets: Array<Socket | undefined>, onLost: () => void): void {
  let lost = false
  const once = (): void => {
    if (!lost) {
      lost = true
      onLost()
    }
  }
  for (const socket of new Set(sockets)) {
    if (socket === undefined) continue
    if (socket.destroyed) {
      setImmediate(once)
      continue
    }
    socket.once('close', once)
    socket.once('end', once)
  }
}

export function discard(client: Client): void {
  client.unbind().catch(() => {})
}

/** Runs `work` within `ms`; past it, the caller gets DirectoryTimeout (the work is abandoned). */
export function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DirectoryTimeout(ms)), ms)
  })
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer))
}

export class LdapPool {
  readonly #idle: Client[] = []
  /** connections whose socket closed: never used again */
  readonly #lost = new WeakSet<Client>()
  readonly #waiting: Array<() => void> = []
  #busy = 0
  #closed = false
  #tls: ConnectionOptions | undefined

  constructor(private readonly settings: LdapSettings) {}

  /** Runs `fn` on a bound connection, at most poolSize at once; a failed connection is discarded. */
  async use<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    if (this.#closed) throw new Error('the directory pool is closed')
    while (this.#busy >= this.settings.poolSize) await new Promise<void>((resolve) => this.#waiting.push(resolve))
    this.#busy++
    let client: Client | undefined
    try {
      client = this.#takeIdle() ?? (await this.#connect())
      const result = await fn(client)
      if (!this.#closed && !this.#lost.has(client) && this.#idle.length < this.settings.poolSize)
        this.#idle.push(client)
      else discard(client)
      client = undefined
      return result
    } finally {
      if (client !== undefined) discard(client)
      this.#busy--
      this.#waiting.shift()?.()
    }
  }

  async #connect(): Promise<Client> {
    this.#tls ??= tlsOptionsFor(this.settings)
    const client: Client = await connectBound(this.settings, this.#tls, () => {
      this.#lost.add(client)
      const at = this.#idle.indexOf(client)
      if (at !== -1) this.#idle.splice(at, 1)
      discard(client)
    })
    return client
  }

  #takeIdle(): Client | undefined {
    for (let c = this.#idle.pop(); c !== undefined; c = this.#idle.pop()) {
      if (c.isConnected && !this.#lost.has(c)) return c
      discard(c)
    }
    return undefined
  }

  /** Drops idle connections (after the directory failed: they may be half-open). */
  drain(): void {
    for (const c of this.#idle.splice(0)) discard(c)
  }

  async close(): Promise<void> {
    this.#closed = true
    this.drain()
  }
}
