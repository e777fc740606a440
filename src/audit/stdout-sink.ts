// Audit events as JSON lines, marked `"log":"audit"` so they can be told apart from the operational
// log on the same stream. pino gives us asynchronous, ordered writes with ISO timestamps.
import { pino, type DestinationStream } from 'pino'
import type { AuditEvent, AuditSink } from './events.js'

export function createAuditSink(destination: DestinationStream = pino.destination({ dest: 1, sync: false })): AuditSink & { flush(): void } {
  const logger = pino({ base: { log: 'audit' }, timestamp: pino.stdTimeFunctions.isoTime, messageKey: 'msg' }, destination)
  return {
    write(event: AuditEvent) {
      logger.info(event)
    },
    flush() {
      logger.flush()
    }
  }
}
