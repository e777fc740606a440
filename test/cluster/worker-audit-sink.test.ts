// A worker's audit sink: events go to the primary stamped with the worker's number, and the
// primary's backpressure (block mode) reaches the worker's requests: admit waits, then gives up.
import t from 'tap'
import type { AuditEvent } from '../../src/audit/events.js'
import type { ToPrimary } from '../../src/cluster/messages.js'
import { WorkerAuditSink } from '../../src/cluster/worker-audit-sink.js'

const event = (n: number) =>
  ({
    v: 1,
    time: '2026-01-01T00:00:00.000Z',
    event: 'config',
    outcome: 'loaded',
    source: `f${n}`,
  }) as unknown as AuditEvent

function channel() {
  const sent: ToPrimary[] = []
  const pending: Array<(err: Error | null) => void> = []
  return {
    sent,
    pending,
    send: (m: ToPrimary, done: (err: Error | null) => void) => {
      sent.push(m)
      pending.push(done)
    },
    deliverAll: (err: Error | null = null) => {
      for (const done of pending.splice(0)) done(err)
    },
  }
}

t.test('every event goes to the primary with the worker number', async (t) => {
  const ch = channel()
  const sink = new WorkerAuditSink(2, ch.send, { mode: 'block', maxQueuedEvents: 100 })
  t.equal(sink.write(event(1)), undefined, 'no wait while the primary has room')
  t.match(ch.sent, [{ type: 'psc-cluster:audit', event: { source: 'f1', worker: 2 } }])
  t.equal(sink.admit(1000), undefined)
  let flushed = false
  const flush = sink.flush().then(() => {
    flushed = true
  })
  await Promise.resolve()
  t.notOk(flushed, 'flush waits for the channel')
  ch.deliverAll()
  await flush
  t.equal(await sink.close(), 0)
})

t.test(
  'block mode: while the primary is blocked, writes and new requests wait; admit gives up at its deadline',
  async (t) => {
    const ch = channel()
    const sink = new WorkerAuditSink(1, ch.send, { mode: 'block', maxQueuedEvents: 100 })
    sink.setState(true, { ok: false, reason: 'audit file: cannot write' })
    t.same(sink.health(), { ok: false, reason: 'audit file: cannot write' })
    const written = sink.write(event(1))
    t.ok(written instanceof Promise, 'the write returns a promise (the event itself is sent)')
    t.equal(ch.sent.length, 1)
    const late = sink.admit(20)
    t.equal(await late, false, 'a request waits at most its deadline, then 503')
    const admitted = sink.admit(10_000)
    let done = false
    void written!.then(() => {
      done = true
    })
    await new Promise((r) => setImmediate(r))
    t.notOk(done)
    sink.setState(false, { ok: true })
    t.equal(await admitted, true, 'room again: the waiting request goes on')
    await written
    t.ok(true, 'and the write resolves')
  },
)

t.test('block mode: no more than maxQueuedEvents on their way to the primary', async (t) => {
  const ch = channel()
  const sink = new WorkerAuditSink(1, ch.send, { mode: 'block', maxQueuedEvents: 2 })
  t.equal(sink.write(event(1)), undefined)
  const second = sink.write(event(2))
  t.ok(second instanceof Promise, 'the channel holds two: wait')
  t.ok(sink.admit(1000) instanceof Promise)
  ch.deliverAll()
  await second
  t.equal(sink.admit(1000), undefined)
})

t.test('drop mode: the primary drops and counts; the worker never holds a request', async (t) => {
  const ch = channel()
  const sink = new WorkerAuditSink(1, ch.send, { mode: 'drop', maxQueuedEvents: 1 })
  sink.setState(true, { ok: true })
  t.equal(sink.write(event(1)), undefined)
  t.equal(sink.write(event(2)), undefined)
  t.equal(sink.admit(1000), undefined)
  ch.deliverAll(new Error('channel closed'))
  t.equal(await sink.close(), 2, 'events the channel refused are counted as unwritten')
})
