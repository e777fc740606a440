// Calls and answers between two processes over their message channel (a cluster worker and its primary), for the state they share.
import type { MessagePort } from 'node:worker_threads'
import { SessionStoreUnavailable } from '../session/store.js'

/**
 * The channel as node:cluster hands it out: the primary's `Worker`, the worker's `process` (a
 * worker_threads MessagePort fits once `send` posts). Our messages carry the `pscRpc` tag; the
 * others (lifecycle, audit) are left to their own listeners, untouched.
 */
export interface RpcPort {
  send(message: unknown): unknown
  on(event: 'message', listener: (message: unknown) => void): unknown
  /** `Worker` and `process`: false once the channel is gone (a send would fail) */
  readonly connected?: boolean
}

/** An answer carries a value, or the error the handler threw (store unavailable, or another). */
type Wire =
  | { pscRpc: 'call'; id: number; m: string; a: unknown[] }
  | { pscRpc: 'reply'; id: number; v?: unknown; e?: { message: string; unavailable?: string } }
  | { pscRpc: 'notice'; t: string; d?: unknown }

/** A handler's error other than SessionStoreUnavailable, as the calling side sees it. */
export class RpcRemoteError extends Error {}

interface Pending {
  resolve(value: unknown): void
  reject(err: Error): void
  deadline: number
}

export interface RpcOptions {
  /** a call with no answer by then rejects with SessionStoreUnavailable: the caller fails closed */
  timeoutMs: number
  now?: () => number
  /** a message tagged as ours whose shape is not one of ours: dropped, then told here (to log its type, not its content) */
  onMalformed?: (message: unknown) => void
}

const isWire = (m: Record<string, unknown>): boolean => {
  switch (m.pscRpc) {
    case 'call':
      return Number.isSafeInteger(m.id) && typeof m.m === 'string' && Array.isArray(m.a)
    case 'reply': {
      if (!Number.isSafeInteger(m.id)) return false
      const e = m.e as Record<string, unknown> | undefined | null
      return (
        e === undefined ||
        (typeof e === 'object' &&
          e !== null &&
          typeof e.message === 'string' &&
          (e.unavailable === undefined || typeof e.unavailable === 'string'))
      )
    }
    case 'notice':
      return typeof m.t === 'string'
    default:
      return false
  }
}

/**
 * One end of the channel: calls the other end, answers its calls, sends and receives notices
 * (one-way messages). When the peer is gone (close(), or the port's `disconnect`, `exit` or `close`
 * event), every pending call rejects at once and new calls fail at once.
 */
export class RpcPeer {
  readonly #port: RpcPort
  readonly #timeoutMs: number
  readonly #now: () => number
  readonly #onMalformed: ((message: unknown) => void) | undefined
  readonly #onClose: Array<() => void> = []
  readonly #handlers = new Map<string, (...args: unknown[]) => unknown>()
  readonly #notices = new Map<string, (data: unknown) => void>()
  /** insertion order is deadline order: every call waits the same timeoutMs */
  readonly #pending = new Map<number, Pending>()
  #nextId = 1
  #timer: NodeJS.Timeout | undefined
  #gone: string | undefined

  constructor(port: RpcPort, options: RpcOptions) {
    this.#port = port
    this.#timeoutMs = options.timeoutMs
    this.#now = options.now ?? Date.now
    this.#onMalformed = options.onMalformed
    port.on('message', (message) => this.#receive(message))
    const events = port as unknown as { on(event: string, listener: () => void): unknown }
    for (const event of ['disconnect', 'exit', 'close']) events.on(event, () => this.close(`peer ${event}`))
  }

  /** Calls `method` on the other end; rejects with SessionStoreUnavailable when no answer can come. */
  call<T>(method: string, ...args: unknown[]): Promise<T> {
    if (this.#gone !== undefined) return Promise.reject(new SessionStoreUnavailable(this.#gone))
    const id = this.#nextId++
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, {
        resolve: resolve as (value: unknown) => void,
        reject,
        deadline: this.#now() + this.#timeoutMs,
      })
      this.#timer ??= setTimeout(() => this.#expire(), this.#timeoutMs).unref()
      this.#send({ pscRpc: 'call', id, m: method, a: args })
    })
  }

  /** Answers calls to `method`; a handler may answer at once or with a promise. */
  handle<A extends unknown[]>(method: string, handler: (...args: A) => unknown): void {
    this.#handlers.set(method, handler as (...args: unknown[]) => unknown)
  }

  /** A one-way message to the other end (nothing answers it). */
  notify(topic: string, data?: unknown): void {
    if (this.#gone === undefined) this.#send({ pscRpc: 'notice', t: topic, d: data })
  }

  onNotice(topic: string, listener: (data: unknown) => void): void {
    this.#notices.set(topic, listener)
  }

  /** whether the other end can still be reached */
  get open(): boolean {
    return this.#gone === undefined
  }

  /** calls waiting for their answer */
  get pending(): number {
    return this.#pending.size
  }

  /** The other end is gone: every pending call rejects now, and later ones at once. */
  close(reason = 'closed'): void {
    if (this.#gone !== undefined) return
    this.#gone = reason
    clearTimeout(this.#timer)
    this.#timer = undefined
    const pending = [...this.#pending.values()]
    this.#pending.clear()
    for (const p of pending) p.reject(new SessionStoreUnavailable(`the primary process is unreachable (${reason})`))
    for (const listener of this.#onClose.splice(0)) listener()
  }

  #send(message: Wire): void {
    try {
      if (this.#port.connected === false) throw new Error('channel closed')
      this.#port.send(message)
    } catch (err) {
      // A channel that cannot carry the message will carry no answer either.
      this.close(err instanceof Error ? err.message : String(err))
    }
  }

  #expire(): void {
    this.#timer = undefined
    const now = this.#now()
    for (const [id, p] of this.#pending) {
      if (p.deadline > now) {
        this.#timer = setTimeout(() => this.#expire(), p.deadline - now).unref()
        return
      }
      this.#pending.delete(id)
      p.reject(new SessionStoreUnavailable(`no answer from the primary process within ${this.#timeoutMs} ms`))
    }
  }

  /** Called once, when the other end is gone (so that what is kept for it can be let go). */
  onClose(listener: () => void): void {
    if (this.#gone !== undefined) listener()
    else this.#onClose.push(listener)
  }

  #receive(message: unknown): void {
    if (typeof message !== 'object' || message === null || !('pscRpc' in message)) return
    // The other end is a process of ours, but a message is used only for the shape it must have.
    if (!isWire(message as Record<string, unknown>)) return this.#onMalformed?.(message)
    const m = message as Wire
    if (m.pscRpc === 'reply') {
      const p = this.#pending.get(m.id)
      if (p === undefined) return // too late: its caller was already told
      this.#pending.delete(m.id)
      if (this.#pending.size === 0) {
        clearTimeout(this.#timer)
        this.#timer = undefined
      }
      if (m.e === undefined) p.resolve(m.v)
      else
        p.reject(
          m.e.unavailable !== undefined
            ? new SessionStoreUnavailable(m.e.unavailable)
            : new RpcRemoteError(m.e.message),
        )
    } else if (m.pscRpc === 'call') this.#answer(m.id, m.m, m.a)
    else if (m.pscRpc === 'notice') this.#notices.get(m.t)?.(m.d)
  }

  #answer(id: number, method: string, args: unknown[]): void {
    const handler = this.#handlers.get(method)
    let out: unknown
    try {
      if (handler === undefined) throw new Error(`no handler for ${method}`)
      out = handler(...args)
    } catch (err) {
      return this.#fail(id, err)
    }
    if (out instanceof Promise)
      out.then(
        (v: unknown) => this.#send({ pscRpc: 'reply', id, v }),
        (err: unknown) => this.#fail(id, err),
      )
    else this.#send({ pscRpc: 'reply', id, v: out })
  }

  #fail(id: number, err: unknown): void {
    const e =
      err instanceof SessionStoreUnavailable
        ? { message: err.message, unavailable: err.reason }
        : { message: err instanceof Error ? err.message : String(err) }
    this.#send({ pscRpc: 'reply', id, e })
  }
}

/** A worker_threads MessagePort (tests, benches) as an RpcPort. */
export function messagePortChannel(port: MessagePort): RpcPort {
  return {
    send: (message) => port.postMessage(message),
    on: (event: string, listener: (...args: unknown[]) => void) => port.on(event, listener),
  }
}
