// Event times come from the trail's clock, to the millisecond: events in the same millisecond share
// the same time, an event a millisecond later gets the later time (the trail formats each
// millisecond once).
import t from 'tap'
import { AuditTrail } from '../../src/audit/trail.js'
import type { AuditEvent } from '../../src/audit/event-schema.js'

t.test('each event has the time of its own millisecond', async (t) => {
  const events: AuditEvent[] = []
  let now = Date.UTC(2026, 10, 28, 12, 0, 0, 999)
  const trail = new AuditTrail({ write: (e) => void events.push(e) }, { now: () => now })
  const request = (id: string) => ({ id, ip: '127.0.0.1', method: 'GET', url: '/x', headers: {} })
  const done = { status: 200, durationMs: 1, access: { decision: 'allow' as const, route: 'r' } }
  trail.finish(request('a'), done)
  trail.finish(request('b'), done)
  now += 1
  trail.finish(request('c'), done)
  now += 60_000
  trail.emit({ event: 'config', outcome: 'loaded', source: 'x.yaml', routes: 1 })
  t.same(
    events.map((e) => e.time),
    ['2026-11-28T12:00:00.999Z', '2026-11-28T12:00:00.999Z', '2026-11-28T12:00:01.000Z', '2026-11-28T12:01:01.000Z'],
  )
})

t.test('the time of every millisecond is the ISO time of that millisecond, whichever way the clock goes', async (t) => {
  const events: AuditEvent[] = []
  let now = 0
  const trail = new AuditTrail({ write: (e) => void events.push(e) }, { now: () => now })
  const request = (id: string) => ({ id, ip: '127.0.0.1', method: 'GET', url: '/x', headers: {} })
  const done = { status: 200, durationMs: 1, access: { decision: 'allow' as const, route: 'r' } }
  const base = Date.UTC(2026, 11, 31, 23, 59, 58, 0)
  // within one second, across seconds, the year's end, a clock set back, and before 1970
  const times = [0, 1, 7, 42, 999, 1000, 1001, 1999, 2000, 2500, 1500, 998, -base - 1, -base - 1000, -base + 5]
  for (const [i, offset] of times.entries()) {
    now = base + offset
    trail.finish(request(String(i)), done)
  }
  t.same(
    events.map((e) => e.time),
    times.map((offset) => new Date(base + offset).toISOString()),
  )
})
