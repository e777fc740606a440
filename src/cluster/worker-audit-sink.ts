// A worker's audit sink: every event goes to the primary over the IPC channel, stamped with the
// worker's number, and the primary writes it to the one chained trail, in the order it arrives. The
// primary's outputs keep their own backpressure (block or drop, counted as in one process); this sink
// only passes it on: while the primary says its outputs cannot take more (block mode), new requests
// wait in admit() and writes return a promise, as the queued sink does in one process.
import type { AuditEvent, AuditSink } from '../audit/events.js'
import type { BackpressureMode, SinkHealth } from '../audit/queue-contract.js'
import type { ToPrimary } from './messages.js'

export type SendToPrimary = (message: ToPrimary, done: (err: Error | null) => void) => void

export class WorkerAuditSink implements AuditSink {
  readonly #worker: number
  readonly #send: SendToPrimary
  readonly #mode: BackpressureMode
  readonly #maxInFlight: number
  #blocked = false
  #health: SinkHealth = { ok: true }
  /** events handed to the channel whose write has not completed yet */
  #inFlight = 0
  #unwritten = 0
  #waiting: Array<() => void> = []
  #idle: Array<() => void> = []

  constructor(worker: number, send: SendToPrimary, options: { mode: BackpressureMode; maxQueuedEvents: number }) {
    this.#worker = worker
    this.#send = send
    this.#mode = options.mode
    this.#maxInFlight = options.maxQueuedEvents
  }

  write(event: AuditEvent): void | Promise<void> {
    // The number is written last: the event keeps the shape the trail gave it.
    ;(event as AuditEvent & { worker: number }).worker = this.#worker
    this.#inFlight++
    try {
      this.#send({ type: 'psc-cluster:audit', event }, (err) => this.#sent(err))
    } catch (err) {
      this.#sent(err as Error)
    }
    return this.whenRoom()
  }

  /** Resolves when the primary can take more (block mode); undefined when it can now. */
  whenRoom(): Promise<void> | undefined {
    if (!this.#full()) return undefined
    return new Promise((resolve) => this.#waiting.push(resolve))
  }

  /** undefined: a request may go on now; else true as soon as it may, false after timeoutMs. */
  admit(timeoutMs: number): Promise<boolean> | undefined {
    if (!this.#full()) return undefined
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting = this.#waiting.filter((w) => w !== go)
        resolve(false)
      }, timeoutMs)
      const go = () => {
        clearTimeout(timer)
        resolve(true)
      }
      this.#waiting.push(go)
    })
  }

  health(): SinkHealth {
    return this.#health
  }

  /** What the primary says of its outputs: blocked (block mode: full, or failing), and their health (readiness). */
  setState(blocked: boolean, health: SinkHealth): void {
    this.#blocked = blocked
    this.#health = health
    this.#wake()
  }

  /** events the channel refused (the primary is gone) */
  get unwritten(): number {
    return this.#unwritten
  }

  /** Resolves once every event written so far has been handed to the channel. */
  flush(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  async close(): Promise<number> {
    await this.flush()
    return this.#unwritten
  }

  #full(): boolean {
    return this.#mode === 'block' && (this.#blocked || this.#inFlight >= this.#maxInFlight)
  }

  #sent(err: Error | null): void {
    this.#inFlight--
    if (err !== null) this.#unwritten++
    if (this.#inFlight === 0) {
      const idle = this.#idle
      this.#idle = []
      for (const resolve of idle) resolve()
    }
    this.#wake()
  }

  #wake(): void {
    if (this.#waiting.length === 0 || this.#full()) return
    const waiting = this.#waiting
    this.#waiting = []
    for (const go of waiting) go()
  }
}
