// A forked process at the other end of an RpcPeer, for rpc.test.ts: answers `pid`, never answers `hang`.
import { RpcPeer } from '../../src/cluster/rpc.js'

const peer = new RpcPeer(process as never, { timeoutMs: 5000 })
peer.handle('pid', () => process.pid)
peer.handle('hang', () => new Promise(() => undefined))
process.send?.({ type: 'ready' })
