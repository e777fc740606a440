// One worker of `serve`'s cluster: takes the configuration the primary sends, builds the gateway
// with an audit sink that goes to the primary (the one writer of the chain), listens on the public
// port, and answers the primary: reloads, metrics, readiness, drain. It owns no file, no admin
// listener and no signal but SIGTERM/SIGINT (drain): the primary reloads and reopens the audit file.
import type { GatewayConfig } from '../config/types.js'
import { runCheck } from '../ops/admin.js'
import { createSessionStore } from '../session/create-store.js'
import { waitForStore } from '../session/store-ready.js'
import type { SessionStore } from '../session/store.js'
import { IpcSessionStore } from './ipc-session-store.js'
import { messageKind, toWorker, type ToPrimary, type WorkerReadiness } from './messages.js'
import { portSharing } from './port-sharing.js'
import { RpcPeer, type RpcPort } from './rpc.js'
import { rateLimitStoreFor } from './shared-rate-limit.js'
import { WorkerAuditSink, type SendToPrimary } from './worker-audit-sink.js'

/** the environment variable that gives a worker its number (1 to workers; a restarted one keeps it) */
export const WORKER_NUMBER_ENV = 'PSC_GATEWAY_WORKER'

const CHECK_TIMEOUT_MS = 1500
/** why a worker drains when the primary tells it to */
const ASKED = 'asked by the primary'
/** A call to the primary's store with no answer by then fails closed (503), as a Redis command timeout does. */
export const STORE_CALL_TIMEOUT_MS = 2000

const send: SendToPrimary = (message, done) => {
  if (process.send === undefined) throw new Error('not a cluster worker')
  process.send(message, undefined, undefined, done)
}

function tell(message: ToPrimary): void {
  send(message, () => {})
}

function configFromPrimary(): Promise<GatewayConfig> {
  return new Promise((resolve) => {
    const first = (message: unknown) => {
      const m = toWorker(message)
      if (m?.type !== 'psc-cluster:config') return
      process.off('message', first)
      resolve(m.config)
    }
    process.on('message', first)
  })
}

export async function runWorker(): Promise<void> {
  const worker = Number(process.env[WORKER_NUMBER_ENV])
  if (!Number.isInteger(worker) || worker < 1) throw new Error(`${WORKER_NUMBER_ENV} is not set: not a worker of serve`)
  // The primary reloads and reopens the audit file; a signal sent to the whole group changes nothing here.
  for (const signal of ['SIGHUP', 'SIGUSR2'] as const) process.on(signal, () => {})
  // What the primary says while the gateway is being built (a stop, its audit outputs' state) is kept, not lost.
  let stopAsked: string | undefined
  let auditState: { blocked: boolean; health: { ok: boolean; reason?: string } } | undefined
  const early = (message: unknown) => {
    const m = toWorker(message)
    if (m === undefined) return
    if (m.type === 'psc-cluster:drain') stopAsked = ASKED
    if (m.type === 'psc-cluster:audit-state') auditState = m
  }
  const earlySignal = (signal: NodeJS.Signals) => {
    stopAsked = signal
  }
  process.on('message', early)
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, earlySignal)
  // The primary is gone (crashed, killed): nothing could be audited any more, so nothing more is
  // served, not even the end of a drain (its responses would go unaudited). Watched from the start:
  // a primary lost while the gateway is being built must not leave a worker that goes on to listen.
  const orphaned = () => process.exit(1)
  process.on('disconnect', orphaned)
  if (process.connected !== true) return orphaned()
  const config = await configFromPrimary()
  tell({ type: 'psc-cluster:starting', step: 'building the gateway' })
  const [{ buildGateway }, { applyGatewayRuntimeTuning }] = await Promise.all([
    import('../gateway.js'),
    import('../ops/runtime-tuning.js'),
  ])
  applyGatewayRuntimeTuning()
  const sink = new WorkerAuditSink(worker, send, {
    mode: config.audit.onBackpressure,
    maxQueuedEvents: config.audit.maxQueuedEvents,
  })
  // The memory store is the primary's, reached over the channel; Redis is reached by each worker itself.
  // Rate limits count for the whole gateway: in the primary, or in Redis beside the sessions.
  const peer = new RpcPeer(process as unknown as RpcPort, { timeoutMs: STORE_CALL_TIMEOUT_MS })
  const sessionStore: SessionStore =
    config.session.store.type === 'memory' ? new IpcSessionStore(peer) : createSessionStore(config.session.store)
  const gateway = await buildGateway(config, {
    audit: sink,
    worker,
    sessionStore,
    rateLimitStore: rateLimitStoreFor(sessionStore, peer),
  })
  const log = gateway.app.log

  let stopping: Promise<void> | undefined
  const stop = (why: string): Promise<void> => {
    // Another signal during the drain (the primary's word after the group's SIGTERM is the usual
    // case, not told): the drain under way goes on, once.
    if (stopping !== undefined) {
      if (why !== ASKED) log.info({ signal: why }, 'worker drain already under way: signal ignored')
      return stopping
    }
    stopping = (async () => {
      log.info({ why }, 'worker draining')
      let failed = false
      try {
        await gateway.close()
      } catch (err) {
        // The primary reads the exit code: a drain that failed may have lost audit events.
        failed = true
        log.error({ error: err instanceof Error ? err.message : String(err) }, 'worker drain failed')
      } finally {
        process.exit(failed || sink.unwritten > 0 ? 1 : 0)
      }
    })()
    return stopping
  }

  process.on('message', (message: unknown) => {
    if (typeof message !== 'object' || message === null || 'pscRpc' in message) return
    const m = toWorker(message)
    if (m === undefined)
      return log.error({ kind: messageKind(message) }, 'primary message dropped: not of the expected shape')
    switch (m.type) {
      case 'psc-cluster:config':
        // The primary validated it, compared it with the start and audited it: only the state is swapped here.
        try {
          gateway.reload(m.config)
        } catch (err) {
          log.error({ error: (err as Error).message }, 'worker could not apply the reloaded configuration')
        }
        return
      case 'psc-cluster:audit-state':
        sink.setState(m.blocked, m.health)
        return
      case 'psc-cluster:ask':
        void answer(m.id, m.what)
        return
      case 'psc-cluster:drain':
        void stop(ASKED)
    }
  })
  const answer = async (id: number, what: 'metrics' | 'readiness') => {
    const value =
      what === 'metrics'
        ? await gateway.metrics.registry.getMetricsAsJSON()
        : (Object.fromEntries(
            await Promise.all(gateway.readiness.map(async (c) => [c.name, await runCheck(c, CHECK_TIMEOUT_MS)])),
          ) as WorkerReadiness)
    tell({ type: 'psc-cluster:answer', id, value })
  }
  process.off('message', early)
  if (auditState !== undefined) sink.setState(auditState.blocked, auditState.health)
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.off(signal, earlySignal)
    process.on(signal, () => void stop(signal))
  }
  if (stopAsked !== undefined) return void stop(stopAsked)
  if (process.connected !== true) return orphaned()

  if (sessionStore.ready !== undefined) {
    tell({ type: 'psc-cluster:starting', step: 'waiting for the session store' })
    await waitForStore(sessionStore, log)
    // Told to stop meanwhile: the drain is under way, nothing more to open.
    if (stopping !== undefined) return
  }
  tell({ type: 'psc-cluster:starting', step: 'opening the public port' })
  const { url } = await gateway.listen(portSharing() === 'reuseport' ? { reusePort: true } : undefined)
  tell({ type: 'psc-cluster:listening', url })
}
