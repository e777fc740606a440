// The asynchronous, bounded queue in front of every real audit destination. A request never waits
// for a disk: `write` serialises the event, queues it and returns; batches are written in the
// background, one at a time, in order. When the destination cannot keep up and the queue is full:
//   block (default): the event is queued anyway (nothing is ever lost) and `write` returns a promise
//                    that resolves when there is room again; the gateway awaits it, and new requests
//                    wait in `whenRoom()` before they are handled: the load slows to the disk's pace.
//   drop:            the event is counted in `droppedEvents` and discarded (availability first).
// A failed write (disk full, EIO) is reported through onError and retried with the same batch, so
// in block mode a broken disk eventually stops the traffic rather than losing its trail.
import type { AuditSink } from './events.js'
import type { AuditEvent } from './schema.js'

export type BackpressureMode = 'block' | 'drop'

/** Writes a batch of serialised events (JSON object texts) as lines, in order. */
export interface BatchDestination {
  writeBatch(bodies: string[], done: (err?: Error | null) => void): void
  close?(): Promise<void>
}

export interface QueueOptions {
  /** events held in memory before backpressure applies (default 10,000) */
  maxQueuedEvents?: number
  onBackpressure?: BackpressureMode
  /** called for each failed write (the batch is retried); default: stderr */
  onError?: (err: Error) => void
  retryDelayMs?: number
  /** events per write at most (default 2,000) */
  maxBatch?: number
  /**
   * How long the first event of a batch waits for others (default 10 ms). Each write costs a
   * thread-pool round trip (or a message to the writer thread) whatever its size: at a few thousand
   * requests a second, a write per event-loop turn costs the request thread more than the lines.
   */
  batchDelayMs?: number
}

export class QueuedSink implements AuditSink {
  /** events discarded because the queue was full (drop mode); exported as psc_gateway_audit_dropped_events_total */
  droppedEvents = 0
  readonly maxQueuedEvents: number
  readonly mode: BackpressureMode
  #dest: BatchDestination
  #queue: string[] = []
  #busy = false
  #roomWaiters: (() => void)[] = []
  #idleWaiters: (() => void)[] = []
  #onError: (err: Error) => void
  #retryDelayMs: number
  #maxBatch: number
  #batchDelayMs: number
  /** the timer of a batch waiting for more events */
  #delay: NodeJS.Timeout | undefined
  #closed = false

  constructor (destination: BatchDestination, options: QueueOptions = {}) {
    this.#dest = destination
    this.maxQueuedEvents = options.maxQueuedEvents ?? 10_000
    this.mode = options.onBackpressure ?? 'block'
    this.#onError = options.onError ?? ((err) => process.stderr.write(`psc-gateway audit: write failed, will retry: ${err.message}\n`))
    this.#retryDelayMs = options.retryDelayMs ?? 1000
    this.#maxBatch = options.maxBatch ?? 2000
    this.#batchDelayMs = options.batchDelayMs ?? 10
  }

  /** events waiting to be written */
  get queued (): number {
    return this.#queue.length
  }

  write (event: AuditEvent): void | Promise<void> {
    return this.enqueue(JSON.stringify(event))
  }

  /** Queues one serialised event (a JSON object's text). */
  enqueue (body: string): void | Promise<void> {
    if (this.#closed) {
      // After close nothing can be written any more; say so rather than lose it silently.
      this.droppedEvents++
      this.#onError(new Error('audit event after the sink was closed'))
      return
    }
    const full = this.#queue.length >= this.maxQueuedEvents
    if (full && this.mode === 'drop') {
      this.droppedEvents++
      return
    }
    this.#queue.push(body)
    this.#kick()
    if (full) return this.#room()
  }

  whenRoom (): Promise<void> | undefined {
    return this.#queue.length >= this.maxQueuedEvents ? this.#room() : undefined
  }

  /** Resolves when everything queued so far is written. */
  flush (): Promise<void> {
    if (!this.#busy && this.#queue.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  /** Writes a batch even when nothing is queued (a destination may have a marker to write, e.g. after reopen). */
  nudge (): void {
    this.#kick(true)
  }

  async close (): Promise<void> {
    await this.flush()
    this.#closed = true
    await this.#dest.close?.()
  }

  #room (): Promise<void> {
    return new Promise((resolve) => this.#roomWaiters.push(resolve))
  }

  #kick (evenIfEmpty = false): void {
    if (this.#busy) {
      // A batch waiting for its delay that has become full goes now.
      if (this.#delay !== undefined && this.#queue.length >= this.#maxBatch) {
        clearTimeout(this.#delay)
        this.#delay = undefined
        setImmediate(() => this.#drain())
      }
      return
    }
    if (this.#queue.length === 0 && !evenIfEmpty) return
    this.#busy = true
    // Events queued within batchDelayMs go out in one write; a full batch goes at once.
    if (this.#batchDelayMs === 0 || this.#queue.length >= this.#maxBatch) {
      setImmediate(() => this.#drain())
      return
    }
    this.#delay = setTimeout(() => {
      this.#delay = undefined
      this.#drain()
    }, this.#batchDelayMs)
  }

  #drain (): void {
    const batch = this.#queue.length <= this.#maxBatch ? this.#queue : this.#queue.slice(0, this.#maxBatch)
    this.#queue = batch === this.#queue ? [] : this.#queue.slice(batch.length)
    this.#dest.writeBatch(batch, (err) => {
      if (err) {
        this.#onError(err)
        this.#queue = batch.concat(this.#queue)
        setTimeout(() => this.#drain(), this.#retryDelayMs).unref()
        return
      }
      if (this.#queue.length < this.maxQueuedEvents && this.#roomWaiters.length > 0) {
        const waiters = this.#roomWaiters
        this.#roomWaiters = []
        for (const w of waiters) w()
      }
      this.#busy = false
      if (this.#queue.length > 0) {
        // What came in meanwhile waits for its batch like any other (at once when a batch is full).
        this.#kick()
        return
      }
      const idle = this.#idleWaiters
      this.#idleWaiters = []
      for (const w of idle) w()
    })
  }
}
