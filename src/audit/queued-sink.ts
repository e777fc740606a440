// The asynchronous, bounded queue in front of every real audit destination. A request never waits
// for a disk: `write` serialises the event, queues it and returns; batches are written in the
// background, one at a time, in order. When the destination cannot keep up and the queue is full:
//   block (default): the event is queued anyway and `write` returns a promise that resolves when
//                    there is room again; the gateway awaits it, and new requests wait in `admit()`
//                    (bounded) before they are handled: the load slows to the disk's pace.
//   drop:            the event is counted in `droppedEvents` and discarded (availability first).
// A failed write (disk full, EIO, a syslog server gone) is retried with the same batch; the first
// failure of an outage is reported once (onError), and the recovery once (onRecover). While the
// destination fails, `writable` is false: readiness says so and the gateway answers new requests
// 503 after a bounded wait (`admit`), so that nothing is served without its trail.
// Nothing is lost without a trace: an event that cannot be queued (drop mode, or block mode past
// the hard ceiling while the destination fails) is counted, and a `gap` event saying how many were
// lost and between which times is queued as soon as there is room, so it is written (and chained)
// in their place. What is still queued when the process must end is counted in `close()`.
import { DropReporter } from './drop-reporter.js'
import type { AuditSink } from './events.js'
import type { AuditEvent, GapEvent } from './event-schema.js'
import { gapEventOf, unwrittenSpanOf, type PendingGap } from './lost-events.js'
import type { BackpressureMode, BatchDestination, QueueOptions, SinkHealth, UnwrittenSpan } from './queue-contract.js'

export class QueuedSink implements AuditSink {
  /** events discarded (queue full in drop mode, hard ceiling in block mode, after close); each is covered by a gap event when one can be written */
  droppedEvents = 0
  /** failed writes since the start (psc_gateway_audit_write_failures_total) */
  writeFailures = 0
  /** events that could not be written before close() gave up; reported by close() */
  unwritten = 0
  readonly maxQueuedEvents: number
  readonly hardLimit: number
  readonly mode: BackpressureMode
  readonly name: string
  #dest: BatchDestination
  #queue: string[] = []
  #busy = false
  #roomWaiters: (() => void)[] = []
  #idleWaiters: (() => void)[] = []
  #onError: (err: Error) => void
  #onRecover: (failedWrites: number, sinceMs: number) => void
  #retryDelayMs: number
  #maxBatch: number
  #batchDelayMs: number
  /** the timer of a batch waiting for more events */
  #delay: NodeJS.Timeout | undefined
  #retry: NodeJS.Timeout | undefined
  #closed = false
  /** set while writes fail: since when, the last error, and how many failed */
  #failing: { since: number; error: string; count: number } | undefined
  #gap: PendingGap | undefined
  #drops: DropReporter<GapEvent['reason']> | undefined
  #lastError: string | undefined
  /** what close() could not write, with its time span (undefined when everything was written) */
  unwrittenSpan: UnwrittenSpan | undefined

  constructor(destination: BatchDestination, options: QueueOptions = {}) {
    this.#dest = destination
    this.maxQueuedEvents = options.maxQueuedEvents ?? 10_000
    this.hardLimit = Math.max(options.hardLimit ?? this.maxQueuedEvents * 2, this.maxQueuedEvents)
    this.mode = options.onBackpressure ?? 'block'
    this.name = options.name ?? 'audit output'
    this.#onError =
      options.onError ??
      ((err) =>
        process.stderr.write(
          `psc-gateway audit: ${this.name}: write failed, retrying (events are kept): ${err.message}\n`,
        ))
    this.#onRecover = options.onRecover ?? (() => {})
    this.#retryDelayMs = options.retryDelayMs ?? 1000
    this.#maxBatch = options.maxBatch ?? 2000
    this.#batchDelayMs = options.batchDelayMs ?? 10
    if (options.onDrop !== undefined)
      this.#drops = new DropReporter(options.onDrop, options.dropReportEveryMs ?? 10_000)
  }

  /**
   * Events an earlier process could not write (it left their count next to the file): their gap
   * record goes first, in their place, like the gap of events lost here.
   */
  carry(gap: { lost: number; from: string; to: string; error?: string | undefined }): void {
    const detail = `still queued when the previous process stopped${gap.error !== undefined ? `; the output's last error: ${gap.error}` : ''}`
    this.#gap = {
      lost: gap.lost + (this.#gap?.lost ?? 0),
      from: gap.from,
      to: this.#gap?.to ?? gap.to,
      reason: 'shutdown',
      detail,
    }
  }

  /** events waiting to be written */
  get queued(): number {
    return this.#queue.length
  }

  /** false while the destination's writes fail */
  get writable(): boolean {
    return this.#failing === undefined
  }

  health(): SinkHealth {
    const f = this.#failing
    if (f === undefined) return { ok: true }
    // Drop mode puts availability first: a failing output loses events (with gap records) but does not stop the service.
    return {
      ok: this.mode === 'drop',
      reason: `${this.name}: cannot write since ${new Date(f.since).toISOString()} (${f.count} failed attempt(s)): ${f.error}; ${this.#queue.length} event(s) waiting`,
    }
  }

  write(event: AuditEvent): void | Promise<void> {
    return this.enqueue(JSON.stringify(event))
  }

  /** Queues one serialised event (a JSON object's text). */
  enqueue(body: string): void | Promise<void> {
    if (this.#closed) {
      // After close nothing can be written any more; say so rather than lose it silently.
      this.droppedEvents++
      this.unwritten++
      this.#onError(new Error(`${this.name}: an audit event came after the output was closed; it is not written`))
      return
    }
    const n = this.#queue.length
    const full = n >= this.maxQueuedEvents
    if (full && (this.mode === 'drop' || (this.#failing !== undefined && n >= this.hardLimit))) {
      this.#lose(this.#failing !== undefined ? 'unwritable' : 'queue-full')
      return
    }
    this.#writeGap()
    this.#queue.push(body)
    this.#kick()
    if (full) return this.#room()
  }

  whenRoom(): Promise<void> | undefined {
    return this.#queue.length >= this.maxQueuedEvents ? this.#room() : undefined
  }

  /**
   * Whether a new request may go on: undefined when it may at once (the destination writes and has
   * room); otherwise a promise that resolves true as soon as it may, or false after `timeoutMs`
   * (the gateway then answers 503: nothing is served that could not be audited).
   */
  admit(timeoutMs: number): Promise<boolean> | undefined {
    if (this.mode === 'drop') return undefined
    const blocked = () =>
      this.#failing !== undefined || (this.mode === 'block' && this.#queue.length >= this.maxQueuedEvents)
    if (!blocked()) return undefined
    return new Promise((resolve) => {
      let settled = false
      const settle = (ok: boolean) => {
        if (settled) return
        settled = true
        clearInterval(poll)
        clearTimeout(timer)
        resolve(ok)
      }
      // Woken after each batch written; a recovery with a full queue is seen by the poll.
      const onRoom = () => {
        if (settled) return
        if (!blocked()) settle(true)
        else this.#roomWaiters.push(onRoom)
      }
      this.#roomWaiters.push(onRoom)
      const poll = setInterval(() => {
        if (!blocked()) settle(true)
      }, 100)
      const timer = setTimeout(() => settle(!blocked()), timeoutMs)
    })
  }

  /** Resolves when everything queued so far is written. */
  flush(): Promise<void> {
    if (!this.#busy && this.#queue.length === 0 && this.#gap === undefined) return Promise.resolve()
    this.#writeGap()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  /** Writes a batch even when nothing is queued (a destination may have a marker to write, e.g. after reopen). */
  nudge(): void {
    this.#kick(true)
  }

  /**
   * Writes what is queued, waiting at most `timeoutMs` (default: as long as it takes) while the
   * destination fails; what could not be written is counted in `unwritten` (with the events lost
   * before that no gap event could cover) and returned.
   */
  async close(timeoutMs?: number): Promise<number> {
    if (timeoutMs === undefined) await this.flush()
    else {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        this.flush(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs)
        }),
      ])
      clearTimeout(timer)
    }
    if (!this.#closed) {
      this.#closed = true
      clearTimeout(this.#retry)
      this.#drops?.flush()
      if (this.#queue.length > 0 || this.#gap !== undefined) {
        const lost = this.#queue.length + (this.#gap?.lost ?? 0)
        this.unwrittenSpan = unwrittenSpanOf(this.#queue, this.#gap, this.unwritten + lost, this.#lastError)
        this.unwritten += lost
        this.#queue = []
        this.#gap = undefined
      }
      // Someone still waiting for room or for the flush must not hang forever.
      for (const w of this.#roomWaiters.splice(0)) w()
      for (const w of this.#idleWaiters.splice(0)) w()
      await this.#dest.close?.()
    }
    return this.unwritten
  }

  #lose(reason: GapEvent['reason']): void {
    this.droppedEvents++
    this.#drops?.add(reason)
    const now = new Date().toISOString()
    if (this.#gap === undefined) this.#gap = { lost: 1, from: now, to: now, reason }
    else {
      this.#gap.lost++
      this.#gap.to = now
      if (reason === 'unwritable') this.#gap.reason = reason
    }
  }

  /** Queues the gap event for the events lost so far, in their place in the order, when there is room. */
  #writeGap(): void {
    const gap = this.#gap
    if (gap === undefined || this.#queue.length >= this.maxQueuedEvents) return
    this.#gap = undefined
    this.#queue.push(JSON.stringify(gapEventOf(gap)))
    this.#kick()
  }

  #room(): Promise<void> {
    return new Promise((resolve) => this.#roomWaiters.push(resolve))
  }

  #wakeRoomWaiters(): void {
    if (this.#roomWaiters.length === 0) return
    const waiters = this.#roomWaiters
    this.#roomWaiters = []
    for (const w of waiters) w()
  }

  #kick(evenIfEmpty = false): void {
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

  #drain(): void {
    if (this.#closed) {
      this.#busy = false
      return
    }
    const batch = this.#queue.length <= this.#maxBatch ? this.#queue : this.#queue.slice(0, this.#maxBatch)
    this.#queue = batch === this.#queue ? [] : this.#queue.slice(batch.length)
    this.#dest.writeBatch(batch, (err) => {
      if (err) {
        this.writeFailures++
        this.#lastError = err.message
        if (this.#failing === undefined) {
          this.#failing = { since: Date.now(), error: err.message, count: 1 }
          this.#onError(err)
        } else {
          this.#failing.count++
          this.#failing.error = err.message
        }
        // The destination left nothing of the batch behind (see FileDestination): the same lines are retried.
        this.#queue = batch.concat(this.#queue)
        if (this.#closed) {
          this.#busy = false
          return
        }
        this.#retry = setTimeout(() => this.#drain(), this.#retryDelayMs)
        this.#retry.unref()
        return
      }
      if (this.#failing !== undefined) {
        const { since, count } = this.#failing
        this.#failing = undefined
        this.#onRecover(count, Date.now() - since)
      }
      this.#writeGap()
      if (this.#queue.length < this.maxQueuedEvents) this.#wakeRoomWaiters()
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
