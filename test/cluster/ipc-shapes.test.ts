// Messages on the cluster's IPC channel are used only for the shape they must have: a malformed one
// is dropped (and told, by its type only), never a crash of the primary nor a call with arguments of
// the wrong type (a rate-limit window of 0 or "60000" would count nothing: a limit never reached).
import { MessageChannel } from 'node:worker_threads'
import t from 'tap'
import { toPrimary, toWorker } from '../../src/cluster/messages.js'
import { MemorySessionStore } from '../../src/session/memory-store.js'
import { PrimaryStoreServer, STORE_RPC } from '../../src/cluster/primary-store.js'
import { messagePortChannel, RpcPeer, RpcRemoteError } from '../../src/cluster/rpc.js'
import { primaryRateCounter, WindowCounts } from '../../src/cluster/shared-rate-limit.js'

const event = { v: 1, time: '2025-01-01T00:00:00.000Z', event: 'access', decision: 'allow' }

t.test('a worker message is used only with the shape its type promises', async (t) => {
  t.ok(toPrimary({ type: 'psc-cluster:audit', event }), 'an event the trail made')
  for (const bad of [null, 'psc-cluster:audit', 42, [event], { ...event, time: 1 }, { v: 1, time: 'x' }])
    t.equal(toPrimary({ type: 'psc-cluster:audit', event: bad }), undefined, `audit event ${JSON.stringify(bad)}`)
  t.ok(toPrimary({ type: 'psc-cluster:listening', url: 'http://127.0.0.1:1' }))
  t.equal(toPrimary({ type: 'psc-cluster:listening', url: { href: 'x' } }), undefined)
  t.ok(toPrimary({ type: 'psc-cluster:answer', id: 3, value: [] }))
  t.equal(toPrimary({ type: 'psc-cluster:answer', id: '3', value: [] }), undefined)
  t.equal(toPrimary({ type: 'psc-cluster:answer', id: 3, value: null }), undefined)
  t.equal(toPrimary({ type: 'psc-cluster:unknown' }), undefined, 'a type of ours not known')
  t.equal(toPrimary({ pscRpc: 'call' }), undefined, 'not a cluster message')

  t.ok(toWorker({ type: 'psc-cluster:drain' }))
  t.ok(toWorker({ type: 'psc-cluster:audit-state', blocked: false, health: { ok: true } }))
  t.equal(toWorker({ type: 'psc-cluster:audit-state', blocked: 'no', health: { ok: true } }), undefined)
  t.equal(toWorker({ type: 'psc-cluster:audit-state', blocked: false }), undefined)
  t.equal(toWorker({ type: 'psc-cluster:ask', id: 1, what: 'secrets' }), undefined)
  t.equal(toWorker({ type: 'psc-cluster:config', config: 'x', reload: false }), undefined)
})

function pair(onMalformed?: (m: unknown) => void) {
  const { port1, port2 } = new MessageChannel()
  const worker = new RpcPeer(messagePortChannel(port1), { timeoutMs: 2000 })
  const primary = new RpcPeer(messagePortChannel(port2), { timeoutMs: 2000, ...(onMalformed && { onMalformed }) })
  return { worker, primary, port1, close: () => port1.close() }
}

t.test('a malformed rpc message is dropped and told, and the channel still answers', async (t) => {
  const told: unknown[] = []
  const { worker, primary, port1, close } = pair((m) => told.push(m))
  t.teardown(close)
  primary.handle('add', (x: number, y: number) => x + y)
  const malformed = [
    { pscRpc: 'call', id: 1, m: 'add', a: 'not a list' },
    { pscRpc: 'call', id: 'x', m: 'add', a: [1, 2] },
    { pscRpc: 'reply', id: 1, e: null },
    { pscRpc: 'reply', id: 1, e: { message: 7 } },
    { pscRpc: 'notice', t: { x: 1 } },
    { pscRpc: 'other' },
  ]
  for (const m of malformed) port1.postMessage(m)
  t.equal(await worker.call('add', 2, 3), 5, 'the channel answers after them')
  t.same(told, malformed, 'each one told, none used')
})

t.test('a store or rate-limit call with arguments of the wrong type is refused, not run', async (t) => {
  const { worker, primary, close } = pair()
  t.teardown(close)
  const counts = new WindowCounts()
  counts.serve(primary)
  const store = new MemorySessionStore(100)
  t.teardown(() => store.close())
  new PrimaryStoreServer(store).serve(primary)

  const hit = primaryRateCounter(worker)
  t.same(await hit.hit('k', 60_000), { current: 1, ttl: 60_000 })
  for (const window of [0, -1, '60000', Number.NaN, null])
    await t.rejects(
      worker.call('rate.hit', 'k', window),
      { message: /rate\.hit: argument 2 is not window/ },
      `a window of ${String(window)} is refused (it would never limit)`,
    )
  await t.rejects(
    worker.call('rate.hit', { k: 1 }, 60_000),
    { message: /argument 1 is not string/ },
    'a key not a string',
  )
  t.equal((await hit.hit('k', 60_000)).current, 2, 'the refused calls counted nothing')

  for (const [call, why] of [
    [worker.call(STORE_RPC.putShared, 'k', { v: 1 }, 1000), 'a shared value not a string'],
    [worker.call(STORE_RPC.deleteByRefs, 'r1'), 'refs not a list of strings'],
    [worker.call(STORE_RPC.size, 'extra'), 'more arguments than the method takes'],
  ] as const)
    t.ok((await call.catch((e: unknown) => e)) instanceof RpcRemoteError, why)
  const refused = await worker.call(STORE_RPC.set, 'id', 'not a record', 1000).catch((e: Error) => e)
  t.ok(refused instanceof RpcRemoteError)
  t.match(refused, { message: /store\.set: argument 2 is not object/ }, 'the error names the argument, not its value')
  t.notMatch((refused as Error).message, /not a record/)
  t.equal(store.size(), 0, 'nothing was stored')
  await worker.call(STORE_RPC.putShared, 'k', 'v', 1000)
  t.equal(await worker.call(STORE_RPC.getShared, 'k'), 'v', 'a call of the right shape still runs')
})
