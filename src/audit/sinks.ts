// The audit outputs a configuration asks for (stdout, a chained file, both), behind one AuditSink,
// with what operations need: reopen (SIGUSR2), droppedEvents (metrics), flush and close (shutdown).
import type { AuditSink } from './events.js'
import { FdDestination } from './fd-destination.js'
import { QueuedSink, type BackpressureMode } from './queued-sink.js'
import type { AuditEvent } from './schema.js'
import { WorkerDestination } from './worker-destination.js'

export interface AuditSettings {
  stdout: boolean
  file?: string | undefined
  hmacKey?: string | undefined
  onBackpressure: BackpressureMode
  includeQuery: boolean
  maxQueuedEvents: number
}

export interface AuditOutput extends AuditSink {
  /** events lost because a queue was full in drop mode (psc_gateway_audit_dropped_events_total) */
  readonly droppedEvents: number
  /** reopens the audit file (after logrotate moved it); a no-op without a file */
  reopen(): void
  flush(): Promise<void>
  close(): Promise<void>
}

export function createAuditOutput (settings: AuditSettings, onError?: (err: Error) => void): AuditOutput {
  const queueOptions = { onBackpressure: settings.onBackpressure, maxQueuedEvents: settings.maxQueuedEvents, onError }
  const sinks: QueuedSink[] = []
  let file: { dest: WorkerDestination; sink: QueuedSink } | undefined
  if (settings.stdout) sinks.push(new QueuedSink(new FdDestination(1), queueOptions))
  if (settings.file !== undefined) {
    // Formatting, sealing and writing the file run in a worker thread; a path that cannot be
    // opened still throws here, so the gateway refuses to start.
    const dest = new WorkerDestination(settings.file, { hmacKey: settings.hmacKey })
    const sink = new QueuedSink(dest, queueOptions)
    sinks.push(sink)
    file = { dest, sink }
    // The chain-start goes out at once: the file shows the start even before the first request.
    sink.nudge()
  }
  return fanOut(sinks, () => {
    if (file === undefined) return
    file.dest.reopen()
    file.sink.nudge()
  })
}

function fanOut (sinks: QueuedSink[], reopen: () => void): AuditOutput {
  return {
    get droppedEvents () {
      return sinks.reduce((n, s) => n + s.droppedEvents, 0)
    },
    write (event: AuditEvent) {
      const body = JSON.stringify(event)
      let waits: Promise<void>[] | undefined
      for (const s of sinks) {
        const w = s.enqueue(body)
        if (w !== undefined) (waits ??= []).push(w)
      }
      if (waits !== undefined) return Promise.all(waits).then(() => {})
    },
    whenRoom () {
      const waits = sinks.map((s) => s.whenRoom()).filter((w) => w !== undefined)
      return waits.length === 0 ? undefined : Promise.all(waits).then(() => {})
    },
    reopen,
    async flush () {
      await Promise.all(sinks.map((s) => s.flush()))
    },
    async close () {
      await Promise.all(sinks.map((s) => s.close()))
    }
  }
}

/** Wraps a sink handed in by the caller (tests capture events this way). */
export function outputOf (sink: AuditSink): AuditOutput {
  const s = sink as AuditSink & Partial<AuditOutput>
  return {
    get droppedEvents () {
      return s.droppedEvents ?? 0
    },
    write: (event) => s.write(event),
    whenRoom: () => s.whenRoom?.(),
    reopen: () => s.reopen?.(),
    flush: async () => { await s.flush?.() },
    close: async () => { await s.close?.() }
  }
}
