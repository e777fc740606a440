// The memory store held by the primary and used by two workers over their channels (worker_threads
// ports in one process): every store method round-trips, a revoke on one side is seen at once on
// the other, a session's record crosses only when it changed, each expiry is audited by the primary
// alone (no worker can take that over), and a primary that cannot answer fails the workers closed.
import { MessageChannel } from 'node:worker_threads'
import t, { type Test } from 'tap'
import { IpcSessionStore } from '../../src/cluster/ipc-session-store.js'
import { PrimaryStoreServer } from '../../src/cluster/primary-store.js'
import { messagePortChannel, RpcPeer, RpcRemoteError } from '../../src/cluster/rpc.js'
import { SessionManager } from '../../src/session/manager.js'
import { MemorySessionStore } from '../../src/session/memory-store.js'
import { SessionStoreUnavailable, type SessionStore } from '../../src/session/store.js'
import { doctor, FlakyStore, sessionFields } from '../helpers/unit.js'
import { until } from '../helpers/until.js'

const TIMEOUTS = { idleTimeoutMs: 30 * 60_000, absoluteTimeoutMs: 8 * 3600_000 }

interface Worker {
  store: IpcSessionStore
  peer: RpcPeer
  /** the primary's end of this worker's channel */
  primarySide: RpcPeer
  /** what the primary sent this worker */
  sent: unknown[]
  /** the worker process dies: its channel closes */
  exit(): void
}

/** A primary serving `store` to `n` workers, each on its own channel. */
function cluster(
  t: Test,
  store: SessionStore,
  n = 2,
  timeoutMs = 2000,
): { server: PrimaryStoreServer; workers: Worker[] } {
  const server = new PrimaryStoreServer(store)
  const workers: Worker[] = []
  for (let i = 0; i < n; i++) {
    const { port1, port2 } = new MessageChannel()
    const sent: unknown[] = []
    const channel = messagePortChannel(port1)
    const primarySide = new RpcPeer(
      {
        send: (m) => {
          sent.push(m)
          return channel.send(m)
        },
        on: (event, listener) => channel.on(event, listener),
      },
      { timeoutMs },
    )
    server.serve(primarySide)
    const peer = new RpcPeer(messagePortChannel(port2), { timeoutMs })
    const worker = { store: new IpcSessionStore(peer), peer, primarySide, sent, exit: () => port2.close() }
    workers.push(worker)
    t.teardown(async () => {
      await worker.store.close()
      port1.close()
    })
  }
  t.teardown(() => store.close())
  return { server, workers }
}

t.test('every store method round-trips through the primary', async (t) => {
  const primary = new MemorySessionStore(1000)
  const { workers } = cluster(t, primary)
  const [a, b] = workers.map((w) => w.store) as [IpcSessionStore, IpcSessionStore]

  const record = {
    ...sessionFields(),
    createdAt: 1,
    lastSeenAt: 2,
    ref: 'ref-one',
    login: { method: 'redirect', client: '192.0.2.7' },
  }
  await a.set('id-1', record, 60_000)
  t.same(primary.get('id-1'), record, 'held by the primary')
  t.same(await b.get('id-1'), record, 'and read by the other worker, tokens and all')
  t.equal(await b.get('nobody'), undefined)
  t.equal(await a.update('id-1', { ...record, lastSeenAt: 3 }, 60_000), true)
  t.equal((await b.get('id-1'))?.lastSeenAt, 3, 'an update is read by the other worker')
  t.equal(await a.update('gone', record, 60_000), false, 'no update of a session that does not exist')
  t.same(
    (await b.listSessions({})).map((s) => s.ref),
    ['ref-one'],
  )
  t.same(
    (await b.listSessions({ idNat: doctor().idNat })).map((s) => [s.ref, s.loginClient]),
    [['ref-one', '192.0.2.7']],
  )
  t.same(await b.listSessions({ idNat: 'someone-else' }), [])

  await a.set('id-2', { ...record, ref: 'ref-two', pscSid: 'sid-2' }, 60_000)
  t.equal(await b.deleteWhere({ sid: 'sid-2' }), 1, 'back-channel logout by sid')
  t.equal(await a.get('id-2'), undefined)
  await a.set('id-3', { ...record, ref: 'ref-three' }, 60_000)
  t.same(
    (await b.deleteByRefs(['ref-three', 'nothing'])).map((s) => s.ref),
    ['ref-three'],
    'revoke by reference answers with what it ended',
  )
  await b.delete('id-1')
  t.equal(await a.get('id-1'), undefined, 'deleted through the other worker')

  t.equal(await a.rememberOnce('jti-1', 60_000), true)
  t.equal(await b.rememberOnce('jti-1', 60_000), false, 'remembered for every worker (replay protection)')

  await a.putShared('ciba:1', 'pending', 60_000)
  t.equal(await b.getShared('ciba:1'), 'pending')
  t.equal(await b.replaceShared('ciba:1', 'other', 'approved', 60_000), false)
  t.equal(await b.replaceShared('ciba:1', 'pending', 'approved', 60_000), true)
  t.equal(await a.takeShared('ciba:1'), 'approved')
  t.equal(await b.takeShared('ciba:1'), undefined, 'taken once')
  t.equal(await b.getShared('ciba:1'), undefined)

  const release = await a.tryLock('refresh:ref-one', 60_000)
  t.type(release, 'function')
  t.equal(await b.tryLock('refresh:ref-one', 60_000), undefined, 'held by the other worker')
  await release!()
  const again = await b.tryLock('refresh:ref-one', 60_000)
  t.type(again, 'function', 'released: the other worker takes it')
  await again!()

  t.same(await a.health(), { ok: true })
  await a.set('id-4', record, 60_000)
  await until('the size metric', async () => {
    // size() is a metric refreshed in the background; a worker just started asks at once
    const w = new IpcSessionStore(workers[0]!.peer)
    await w.health()
    const n = w.size()
    await w.close()
    return n === 1
  })
  t.pass('size() reports the primary count')
})

t.test('revoked on one side, gone for every worker at once', async (t) => {
  const primary = new MemorySessionStore(1000)
  const { workers } = cluster(t, primary)
  const [a, b] = workers.map((w) => new SessionManager(w.store, TIMEOUTS)) as [SessionManager, SessionManager]
  const admin = new SessionManager(primary, TIMEOUTS)

  const one = await a.create(sessionFields())
  const two = await a.create(sessionFields())
  for (const s of [one, two]) t.equal((await b.load(s.id)).kind, 'alive', 'worker B reads what worker A created')

  // Revoked by the security team through the admin listener (the primary's manager).
  t.same(
    (await admin.revoke({ ref: one.record.ref })).map((s) => s.ref),
    [one.record.ref],
  )
  t.equal((await b.load(one.id)).kind, 'none', 'worker B, which had read it, no longer serves it')
  t.equal((await a.load(one.id)).kind, 'none')
  // Revoked from worker B (a logout, or the admin API served by a worker).
  await b.revoke({ idNat: doctor().idNat })
  t.equal((await a.load(two.id)).kind, 'none', 'worker A no longer serves it')
  t.equal(await a.store.get(two.id), undefined)
  // A touch in flight on worker A does not write it back.
  t.equal(await a.store.update(two.id, two.record, 60_000), false)
  t.equal(primary.get(two.id), undefined)
})

t.test('a record crosses the channel when it changed, not on every read', async (t) => {
  const primary = new MemorySessionStore(1000)
  const { workers } = cluster(t, primary)
  const w = workers[0]!
  const manager = new SessionManager(w.store, TIMEOUTS)
  const { id, record } = await manager.create(sessionFields())

  const first = await w.store.get(id)
  w.sent.length = 0
  const second = await w.store.get(id)
  t.same(first, record)
  t.equal(second, first, 'unchanged: the same object, from the version the primary confirmed')
  t.match(w.sent, [{ pscRpc: 'reply', v: Number }], 'the answer was the version alone, no record')
  await w.store.update(id, { ...record, lastSeenAt: record.lastSeenAt + 1 }, 60_000)
  const third = await w.store.get(id)
  t.not(third, first, 'changed: the new record')
  t.equal(third?.lastSeenAt, record.lastSeenAt + 1)
  // Written by another worker: this one's copy is not served either.
  await workers[1]!.store.update(id, { ...record, accessToken: 'access-token-2' }, 60_000)
  t.equal((await w.store.get(id))?.accessToken, 'access-token-2')
})

t.test(
  "each session the primary's store ends by itself is audited by the primary, once: no worker can take it over",
  async (t) => {
    const primary = new MemorySessionStore(1000)
    const { workers } = cluster(t, primary, 3)
    // As serve's primary does (auditSessionEnds): the one listener on its store (a short idle timeout: a sweep every 250 ms).
    const audited: string[] = []
    new SessionManager(primary, { ...TIMEOUTS, idleTimeoutMs: 1000 }).watchEnds((e) => void audited.push(e.ref))
    // A worker asks to be told of the ends (to audit them itself): refused, as any unknown method.
    for (const w of workers) {
      const asked = await w.peer.call('store.watchEnds', 20).catch((e: unknown) => e)
      t.ok(asked instanceof RpcRemoteError, 'the call to take expiries over is refused')
      t.match(asked, { message: /no handler for store\.watchEnds/ })
    }
    // A worker's session manager watching its store is told nothing: the store has no such path.
    const told: string[] = []
    for (const w of workers) new SessionManager(w.store, TIMEOUTS).watchEnds((e) => void told.push(e.ref))
    t.equal((workers[0]!.store as { onEnded?: unknown }).onEnded, undefined, "a worker's store reports no end")

    const record = (ref: string) => ({ ...sessionFields(), createdAt: Date.now(), lastSeenAt: Date.now(), ref })
    await workers[1]!.store.set('short-1', record('ref-short-1'), 30)
    await until('the end audited', async () => audited.length >= 1, 10_000, 10)
    // Whatever else the primary would have sent before answering these calls has arrived (one channel keeps order).
    await Promise.all(workers.map((w) => w.store.health()))
    t.same(audited, ['ref-short-1'], 'audited once, by the primary')
    t.same(told, [], 'and by no worker')
    t.notOk(
      workers.some((w) => w.sent.some((m) => (m as { pscRpc?: string }).pscRpc === 'notice')),
      'no worker was sent a notice of it',
    )
  },
)

t.test('the primary cannot answer: the workers fail closed, never "no session"', async (t) => {
  const primary = new FlakyStore()
  const { workers } = cluster(t, primary, 1, 200)
  const w = workers[0]!
  const manager = new SessionManager(w.store, TIMEOUTS)
  const { id } = await manager.create(sessionFields())
  primary.down = 'sync'
  const err = await w.store.get(id).catch((e: unknown) => e)
  t.ok(err instanceof SessionStoreUnavailable, "the primary's store is down: told as unavailable")
  primary.down = false

  // The primary is busy (its handler never answers): the worker's call rejects at its deadline.
  for (const method of ['store.get', 'store.health']) w.primarySide.handle(method, () => new Promise(() => undefined))
  const late = await w.store.get(id).catch((e: unknown) => e)
  t.ok(late instanceof SessionStoreUnavailable, 'no answer in time: unavailable')
  t.match(await w.store.health(), { ok: false, reason: /no answer from the primary process/ })

  // The primary is gone: at once.
  w.primarySide.close()
  w.exit()
  await until('the channel closed', async () => !w.peer.open, 10_000, 10)
  t.ok((await w.store.get(id).catch((e: unknown) => e)) instanceof SessionStoreUnavailable)
})

t.test('two workers race for one-time keys: one wins', async (t) => {
  const primary = new MemorySessionStore(1000)
  const { workers } = cluster(t, primary, 2)
  const [a, b] = workers.map((w) => w.store) as [IpcSessionStore, IpcSessionStore]
  const remembered = await Promise.all([a.rememberOnce('code-1', 60_000), b.rememberOnce('code-1', 60_000)])
  t.same(remembered.sort(), [false, true])
  await a.putShared('outcome', 'approved', 60_000)
  const taken = await Promise.all([a.takeShared('outcome'), b.takeShared('outcome')])
  t.same(
    taken.filter((v) => v !== undefined),
    ['approved'],
    'taken by one worker only',
  )
  const locks = await Promise.all([a.tryLock('l', 60_000), b.tryLock('l', 60_000)])
  t.equal(locks.filter((l) => l !== undefined).length, 1)
})
