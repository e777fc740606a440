// The audit queue writes events that arrive close together in one batch: a write per event-loop
// turn (one per request under load) cost the request thread a thread-pool round trip each.
import t from 'tap'
import type { BatchDestination } from '../../src/audit/queue-contract.js'
import { QueuedSink } from '../../src/audit/queued-sink.js'

function countingDestination() {
  const batches: string[][] = []
  const dest: BatchDestination = {
    writeBatch(bodies, done) {
      batches.push([...bodies])
      setImmediate(() => done())
    },
  }
  return { dest, batches }
}

const turn = () => new Promise((r) => setImmediate(r))

t.test('events spread over many event-loop turns within the delay go out in one write, in order', async (t) => {
  const { dest, batches } = countingDestination()
  // a delay the 50 turns fit in even on a loaded machine (200 ms did not: the process waits for a CPU)
  const sink = new QueuedSink(dest, { batchDelayMs: 1000 })
  for (let i = 0; i < 50; i++) {
    void sink.enqueue(`{"n":${i}}`)
    await turn()
  }
  await sink.flush()
  t.equal(batches.length, 1, `one write, not one per turn (got ${batches.length})`)
  t.same(
    batches.flat(),
    Array.from({ length: 50 }, (_, i) => `{"n":${i}}`),
  )
})

t.test('a full batch does not wait for the delay', async (t) => {
  const { dest, batches } = countingDestination()
  const sink = new QueuedSink(dest, { batchDelayMs: 60_000, maxBatch: 10 })
  for (let i = 0; i < 10; i++) void sink.enqueue(`{"n":${i}}`)
  const started = Date.now()
  await sink.flush()
  t.ok(Date.now() - started < 5_000, 'written long before the delay')
  t.same(batches, [Array.from({ length: 10 }, (_, i) => `{"n":${i}}`)])
})

t.test('events arriving during a write wait for the next batch rather than going one by one', async (t) => {
  const batches: string[][] = []
  let release = undefined as (() => void) | undefined
  const dest: BatchDestination = {
    writeBatch(bodies, done) {
      batches.push([...bodies])
      release = () => done()
    },
  }
  const sink = new QueuedSink(dest, { batchDelayMs: 100 })
  void sink.enqueue('{"n":0}')
  while (release === undefined) await turn()
  for (let i = 1; i <= 5; i++) void sink.enqueue(`{"n":${i}}`)
  const first = release
  release = undefined
  first()
  for (let i = 6; i <= 9; i++) {
    await turn()
    void sink.enqueue(`{"n":${i}}`)
  }
  while (release === undefined) await turn()
  ;(release as () => void)()
  await sink.flush()
  t.same(
    batches.map((b) => b.length),
    [1, 9],
    'the nine later events share one write',
  )
})
