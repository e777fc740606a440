// The primary's end for bench/ipc-store-get.ts: a memory store served over this process's IPC channel, with its CPU time on demand.
import { PrimaryStoreServer } from '../src/cluster/primary-store.js'
import { RpcPeer } from '../src/cluster/rpc.js'
import { MemorySessionStore } from '../src/session/memory-store.js'

const store = new MemorySessionStore(10_000)
const peer = new RpcPeer(process as never, { timeoutMs: 5000 })
new PrimaryStoreServer(store).serve(peer)
peer.handle('cpu', () => process.cpuUsage())
process.send?.({ type: 'ready' })
