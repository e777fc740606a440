// npm run bench:ipc-store [-- --calls 50000]
//
// The cost of a session read in a cluster worker whose sessions live in the primary (memory store,
// src/cluster/ipc-session-store.ts), against the memory store read in the same process. The
// primary runs in a forked process (node:child_process, the IPC channel node:cluster uses); this
// process is the worker. Figures: wall time per call (one at a time, and 50 in flight), and CPU
// time per call of the worker and of the primary. Three reads: the memory store itself; the
// worker's store (an unchanged record: the primary answers with its version alone); the same call
// forced to carry the record every time (as a store without the worker's copies would).
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { IpcSessionStore } from '../src/cluster/ipc-session-store.js'
import { STORE_RPC } from '../src/cluster/primary-store.js'
import { RpcPeer } from '../src/cluster/rpc.js'
import { SessionManager } from '../src/session/manager.js'
import { MemorySessionStore } from '../src/session/memory-store.js'
import { sessionFields } from '../test/helpers/unit.js'
import { TYPESCRIPT_NODE_ARGS } from '../test/helpers/typescript-node.js'

const { values: args } = parseArgs({ options: { calls: { type: 'string', default: '50000' } } })
const CALLS = Number(args.calls)
const TIMEOUTS = { idleTimeoutMs: 30 * 60_000, absoluteTimeoutMs: 8 * 3600_000 }
/** PSC tokens as long as real ones (a signed JWT each): the record a full reply carries */
const TOKENS = { idToken: 'i'.repeat(1500), accessToken: 'a'.repeat(1400), refreshToken: 'r'.repeat(900) }

interface Figures {
  label: string
  sequentialUs: number
  concurrentUs: number
  workerCpuUs: number
  primaryCpuUs?: number
}

async function measure(
  label: string,
  read: () => unknown,
  primaryCpu?: () => Promise<NodeJS.CpuUsage>,
): Promise<Figures> {
  for (let i = 0; i < 2000; i++) await read() // warm-up
  const cpu0 = process.cpuUsage()
  const p0 = primaryCpu ? await primaryCpu() : undefined
  let start = process.hrtime.bigint()
  for (let i = 0; i < CALLS; i++) await read()
  const sequentialUs = Number(process.hrtime.bigint() - start) / 1000 / CALLS
  start = process.hrtime.bigint()
  const inFlight = 50
  let next = 0
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next++ < CALLS) await read()
    }),
  )
  const concurrentUs = Number(process.hrtime.bigint() - start) / 1000 / CALLS
  const cpu = process.cpuUsage(cpu0)
  const p1 = primaryCpu ? await primaryCpu() : undefined
  const cpuUs = (u: NodeJS.CpuUsage) => (u.user + u.system) / (2 * CALLS)
  return {
    label,
    sequentialUs,
    concurrentUs,
    workerCpuUs: cpuUs(cpu),
    ...(p0 && p1 && { primaryCpuUs: cpuUs({ user: p1.user - p0.user, system: p1.system - p0.system }) }),
  }
}

async function main(): Promise<void> {
  const child = fork(join(import.meta.dirname, 'ipc-store-primary.ts'), [], {
    execArgv: TYPESCRIPT_NODE_ARGS,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  try {
    const peer = new RpcPeer(child, { timeoutMs: 5000 })
    await once(child, 'message')
    const primaryCpu = () => peer.call<NodeJS.CpuUsage>('cpu')

    const memory = new MemorySessionStore(10_000)
    const local = await new SessionManager(memory, TIMEOUTS).create(sessionFields(undefined, TOKENS))
    const ipc = new IpcSessionStore(peer)
    const remote = await new SessionManager(ipc, TIMEOUTS).create(sessionFields(undefined, TOKENS))
    const recordBytes = JSON.stringify(remote.record).length

    const results = [
      await measure('memory store, same process', () => memory.get(local.id)),
      await measure('worker store, unchanged record (version only)', () => ipc.get(remote.id), primaryCpu),
      await measure(
        'worker store, record carried every time',
        () => peer.call(STORE_RPC.get, remote.id, null),
        primaryCpu,
      ),
    ]
    process.stdout.write(
      `session read, ${CALLS} calls each, node ${process.version}; record ${recordBytes} bytes as JSON\n\n` +
        '| read | µs/call, one at a time | µs/call, 50 in flight | worker CPU µs/call | primary CPU µs/call |\n' +
        '|---|---:|---:|---:|---:|\n' +
        results
          .map(
            (r) =>
              `| ${r.label} | ${r.sequentialUs.toFixed(2)} | ${r.concurrentUs.toFixed(2)} | ${r.workerCpuUs.toFixed(2)} | ${r.primaryCpuUs?.toFixed(2) ?? '–'} |`,
          )
          .join('\n') +
        '\n',
    )
    await ipc.close()
  } finally {
    child.kill()
  }
}

await main()
