// A disk that cannot keep up (a Writable that calls back late): in block mode nothing is lost and
// the writers wait; in drop mode the writers never wait and every lost event is counted. First the
// queue alone, then the whole gateway under concurrent load.
import t from 'tap'
import { QueuedSink } from '../../src/audit/queued-sink.js'
import { StreamDestination } from '../../src/audit/stream-destination.js'
import type { AuditEvent } from '../../src/audit/events.js'
import { slowStream, startAuditStack } from './audit-stack.js'

const event = (i: number | string): AuditEvent => ({
  v: 1,
  time: new Date().toISOString(),
  event: 'access',
  decision: 'allow',
  requestId: `r${i}`,
  client: '127.0.0.1',
  method: 'GET',
  path: `/p/${i}`,
  status: 200,
  durationMs: 1,
})

const parsed = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { log: string; event: string; requestId?: string })

t.test('block: a slow stream loses nothing, in order; writers wait only when the queue is full', async (t) => {
  const stream = slowStream(5)
  const sink = new QueuedSink(new StreamDestination(stream), { maxQueuedEvents: 20, onBackpressure: 'block' })
  let waited = 0
  let maxQueued = 0
  const writer = async (w: number) => {
    for (let i = 0; i < 100; i++) {
      const wait = sink.write(event(`${w}-${i}`))
      maxQueued = Math.max(maxQueued, sink.queued)
      if (wait !== undefined) {
        waited++
        await wait
      }
    }
  }
  await Promise.all(Array.from({ length: 10 }, (_, w) => writer(w)))
  await sink.close()
  const lines = parsed(stream.text())
  t.equal(lines.length, 1000, 'every event written')
  t.equal(sink.droppedEvents, 0)
  t.ok(waited > 0, `writers were held back (${waited} waits)`)
  t.ok(maxQueued <= 20 + 10, `the queue stayed bounded (max ${maxQueued})`)
  for (let w = 0; w < 10; w++) {
    const mine = lines.filter((l) => l.requestId!.startsWith(`r${w}-`))
    t.same(
      mine.map((l) => l.requestId),
      Array.from({ length: 100 }, (_, i) => `r${w}-${i}`),
      `writer ${w}'s events in order`,
    )
  }
  t.ok(lines.every((l) => l.log === 'audit'))
})

t.test('drop: a slow stream never holds writers back; what is lost is counted exactly', async (t) => {
  const stream = slowStream(5)
  const sink = new QueuedSink(new StreamDestination(stream), { maxQueuedEvents: 20, onBackpressure: 'drop' })
  let waits = 0
  for (let burst = 0; burst < 20; burst++) {
    for (let i = 0; i < 50; i++) if (sink.write(event(burst * 50 + i)) !== undefined) waits++
    await new Promise((r) => setTimeout(r, 1)) // time passing: bursts apart, so the writer drains between them
  }
  await sink.close()
  const lines = parsed(stream.text())
  t.equal(waits, 0, 'no writer ever waits')
  t.ok(sink.droppedEvents > 0, `events were dropped (${sink.droppedEvents})`)
  const gaps = lines.filter((l) => l.event === 'gap') as unknown as { lost: number }[]
  t.equal(lines.length - gaps.length + sink.droppedEvents, 1000, 'written + dropped = all')
  t.ok(gaps.length > 0, 'the losses are recorded in the trail')
  t.equal(
    gaps.reduce((n, g) => n + g.lost, 0),
    sink.droppedEvents,
    'the gap records count exactly what was dropped',
  )
})

async function load(url: string, total: number, concurrency: number): Promise<number[]> {
  const statuses: number[] = []
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++
        const res = await fetch(url)
        await res.arrayBuffer()
        statuses.push(res.status)
      }
    }),
  )
  return statuses
}

for (const mode of ['block', 'drop'] as const) {
  t.test(`the gateway under load with a slow audit destination (${mode})`, async (t) => {
    const stream = slowStream(3)
    const sink = new QueuedSink(new StreamDestination(stream), {
      maxQueuedEvents: 5,
      onBackpressure: mode,
      maxBatch: 3,
    })
    const stack = await startAuditStack({ audit: sink })
    t.teardown(() => stack.close())
    const statuses = await load(`${stack.url}/public/item`, 400, 40)
    t.equal(statuses.filter((s) => s === 200).length, 400, 'every request answered')
    await new Promise((r) => setTimeout(r, 50)) // time passing: access events are written after the answer the client already has
    await sink.flush()
    const access = parsed(stream.text()).filter((l) => l.event === 'access')
    if (mode === 'block') {
      t.equal(access.length, 400, 'one access event per request, none lost')
      t.equal(sink.droppedEvents, 0)
      t.equal(new Set(access.map((a) => a.requestId)).size, 400, 'distinct requests')
    } else {
      t.ok(sink.droppedEvents > 0, `drops counted (${sink.droppedEvents})`)
      // 400 access events and the one "config loaded" of the start
      const all = parsed(stream.text())
      const gaps = all.filter((l) => l.event === 'gap') as unknown as { lost: number }[]
      t.equal(all.length - gaps.length + sink.droppedEvents, 401, 'written + dropped = all')
      t.equal(
        gaps.reduce((n, g) => n + g.lost, 0),
        sink.droppedEvents,
        'every dropped event is covered by a gap record',
      )
    }
  })
}
