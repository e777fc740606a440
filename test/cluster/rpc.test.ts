// Calls between two ends of a message channel: answers and errors come back, other messages pass
// untouched, a call without an answer fails closed at its deadline, and a peer that goes away
// rejects every pending call at once (worker_threads ports, and a real forked process).
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { MessageChannel } from 'node:worker_threads'
import t from 'tap'
import { messagePortChannel, RpcPeer, RpcRemoteError } from '../../src/cluster/rpc.js'
import { SessionStoreUnavailable } from '../../src/session/store.js'
import { TYPESCRIPT_NODE_ARGS } from '../helpers/typescript-node.js'

function pair(timeoutMs = 2000) {
  const { port1, port2 } = new MessageChannel()
  const a = new RpcPeer(messagePortChannel(port1), { timeoutMs })
  const b = new RpcPeer(messagePortChannel(port2), { timeoutMs })
  return { a, b, port1, port2, close: () => port1.close() }
}

t.test('answers, errors carried back, notices, and other messages left alone', async (t) => {
  const { a, b, port1, port2, close } = pair()
  t.teardown(close)
  b.handle('add', (x: number, y: number) => x + y)
  b.handle('later', async (s: string) => `${s}!`)
  b.handle('down', () => {
    throw new SessionStoreUnavailable('redis gone (test)')
  })
  b.handle('broken', async () => {
    throw new TypeError('bad input (test)')
  })
  t.equal(await a.call('add', 2, 3), 5, 'an answer given at once')
  t.equal(await a.call('later', 'ok'), 'ok!', 'an answer given by a promise')
  const down = await a.call('down').catch((e: unknown) => e)
  t.ok(down instanceof SessionStoreUnavailable, 'the store-unavailable error stays one: callers fail closed')
  t.equal((down as SessionStoreUnavailable).reason, 'redis gone (test)')
  const broken = await a.call('broken').catch((e: unknown) => e)
  t.ok(broken instanceof RpcRemoteError)
  t.match((broken as Error).message, /bad input \(test\)/)
  t.match(await a.call('nothing').catch((e: Error) => e.message), /no handler for nothing/)

  // Lifecycle and audit messages share the channel: the other end's own listener sees them as sent.
  const seen: unknown[] = []
  port2.on('message', (m) => seen.push(m))
  const notice = new Promise((resolve) => b.onNotice('ended', resolve))
  port1.postMessage({ type: 'audit', event: { event: 'access' } })
  a.notify('ended', { ref: 'r1' })
  t.same(await notice, { ref: 'r1' })
  t.same(seen[0], { type: 'audit', event: { event: 'access' } }, 'untouched')
  t.equal(a.pending, 0)
  t.equal(await a.call('add', 1, 1), 2, 'and the channel still answers')
})

t.test('a call without an answer fails closed at its deadline, and leaves nothing pending', async (t) => {
  const { a, b, close } = pair(150)
  t.teardown(close)
  b.handle('hang', () => new Promise(() => undefined))
  b.handle('echo', (v: string) => v)
  const started = Date.now()
  const calls = [a.call('hang'), a.call('hang')]
  t.equal(a.pending, 2)
  for (const call of calls) {
    const err = await call.catch((e: unknown) => e)
    t.ok(err instanceof SessionStoreUnavailable, 'rejected as the store being unavailable')
    t.match((err as Error).message, /no answer from the primary process within 150 ms/)
  }
  const took = Date.now() - started
  t.ok(took >= 140 && took < 1500, `at the deadline (${took} ms)`)
  t.equal(a.pending, 0, 'no leak')
  t.equal(await a.call('echo', 'still'), 'still', 'a late peer is still usable for the next calls')
})

t.test('the peer goes away: every pending call rejects at once, later calls too', async (t) => {
  const { a, b, port2 } = pair(60_000)
  b.handle('hang', () => new Promise(() => undefined))
  const calls = [a.call('hang'), a.call('hang'), a.call('hang')]
  await new Promise((r) => setImmediate(r))
  const started = Date.now()
  port2.close()
  const results = await Promise.allSettled(calls)
  t.ok(Date.now() - started < 1000, 'not at the 60 s deadline')
  for (const r of results) {
    t.equal(r.status, 'rejected')
    t.ok((r as PromiseRejectedResult).reason instanceof SessionStoreUnavailable)
  }
  t.equal(a.pending, 0)
  t.notOk(a.open)
  t.ok((await a.call('hang').catch((e: unknown) => e)) instanceof SessionStoreUnavailable, 'a later call fails at once')
})

t.test('a real forked process: calls answered over its IPC channel, then rejected when it is killed', async (t) => {
  const child = fork(join(import.meta.dirname, 'rpc-child.ts'), [], {
    execArgv: TYPESCRIPT_NODE_ARGS,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  t.teardown(() => child.kill('SIGKILL'))
  const peer = new RpcPeer(child, { timeoutMs: 60_000 })
  const [ready] = (await once(child, 'message')) as [unknown]
  t.same(ready, { type: 'ready' }, 'a lifecycle message of its own, next to ours')
  t.equal(await peer.call('pid'), child.pid, 'answered by the child')
  const hanging = peer.call('hang')
  const alsoHanging = peer.call('hang')
  child.kill('SIGKILL')
  for (const call of [hanging, alsoHanging]) {
    const err = await call.catch((e: unknown) => e)
    t.ok(err instanceof SessionStoreUnavailable, 'rejected when the process died')
  }
  t.equal(peer.pending, 0)
})
