// The simplest audit sink: JSON lines marked `"log":"audit"` (to tell them from the operational
// log, `"log":"app"`, on the same stream), queued and written asynchronously to stdout (fd 1), or
// handed to a given destination's write() (e.g. a pino.destination to a file, as the proxy bench
// does). The gateway itself builds its sinks from the configuration (sinks.ts).
import type { AuditSink } from './events.js'
import { FdDestination } from './fd-destination.js'
import { QueuedSink, type BatchDestination } from './queued-sink.js'
import { LineFormat } from './line-format.js'

interface WritesStrings {
  write(text: string): unknown
  flush?(): void
}

export function createAuditSink (destination?: WritesStrings): AuditSink & { flush(): void; droppedEvents: number } {
  const dest: BatchDestination = destination === undefined ? new FdDestination(1) : textDestination(destination)
  const sink = new QueuedSink(dest)
  return Object.assign(sink, {
    flush () {
      void sink.flush().then(() => destination?.flush?.())
    }
  }) as unknown as AuditSink & { flush(): void; droppedEvents: number }
}

function textDestination (destination: WritesStrings): BatchDestination {
  const format = new LineFormat(undefined)
  return {
    writeBatch (bodies, done) {
      destination.write(format.format(bodies).text)
      done()
    }
  }
}
