// The events a queued sink could not write, told in their place: the pending gap (how many, between
// which times, why) and the `gap` event written for it.
import { AUDIT_SCHEMA_VERSION, type GapEvent } from './event-schema.js'
import type { UnwrittenSpan } from './queue-contract.js'

export interface PendingGap {
  lost: number
  from: string
  to: string
  reason: GapEvent['reason']
  detail?: string | undefined
}

/** The gap event for the events lost so far. */
export function gapEventOf(gap: PendingGap): GapEvent {
  const event: GapEvent = {
    v: AUDIT_SCHEMA_VERSION,
    time: new Date().toISOString(),
    event: 'gap',
    lost: gap.lost,
    from: gap.from,
    to: gap.to,
    reason: gap.reason,
  }
  if (gap.detail !== undefined) event.detail = gap.detail
  return event
}

/** What close() could not write: `lost` events, from the first time among the gap and the queue to the last. */
export function unwrittenSpanOf(
  queue: readonly string[],
  gap: PendingGap | undefined,
  lost: number,
  error: string | undefined,
): UnwrittenSpan {
  const now = new Date().toISOString()
  const times = [gap?.from, gap?.to, timeIn(queue[0]), timeIn(queue[queue.length - 1])]
    .filter((x) => x !== undefined)
    .sort()
  return { lost, from: times[0] ?? now, to: times[times.length - 1] ?? now, error }
}

/** The time of a serialised event (the gateway writes it second: {"v":1,"time":"…"}). */
function timeIn(body: string | undefined): string | undefined {
  return body === undefined ? undefined : /"time":"([^"]+)"/.exec(body)?.[1]
}
