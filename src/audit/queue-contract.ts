// The queued sink's contract: the options it is built with, the destination it writes batches to,
// and what it reports (its health, the span of the events it could not write).
import type { GapEvent } from './event-schema.js'

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
  /** called once when writes start failing (the batch is retried until it is written); default: stderr */
  onError?: (err: Error) => void
  /** called once when a write succeeds again after failures */
  onRecover?: (failedWrites: number, sinceMs: number) => void
  retryDelayMs?: number
  /** events per write at most (default 2,000) */
  maxBatch?: number
  /**
   * How long the first event of a batch waits for others (default 10 ms). Each write costs a
   * thread-pool round trip (or a message to the writer thread) whatever its size: at a few thousand
   * requests a second, a write per event-loop turn costs the request thread more than the lines.
   */
  batchDelayMs?: number
  /** block mode: events held at most while the destination fails, past which they are counted as lost (default 2 × maxQueuedEvents) */
  hardLimit?: number
  /** a name for messages ("audit file /var/log/…", "syslog tcp://…") */
  name?: string
  /**
   * Called when events are lost (drop mode, or past the ceiling while failing): at the first loss,
   * then at most once per `dropReportEveryMs` (default 10 s) with the count since the last call.
   */
  onDrop?: (lost: number, reason: GapEvent['reason']) => void
  dropReportEveryMs?: number
}

/** Events still queued when the output was closed: how many, and the times of the first and last. */
export interface UnwrittenSpan {
  lost: number
  from: string
  to: string
  error?: string | undefined
}

/** Why a queue is not accepting requests' events at the moment. */
export interface SinkHealth {
  ok: boolean
  reason?: string
}
