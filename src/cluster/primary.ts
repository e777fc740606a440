// `serve` with workers > 1: this process becomes the primary of a node:cluster. It forks the workers
// (each serves requests on the public port), and holds what must exist once: the audit output (the
// one writer of the chained file, fed by the workers over IPC, in the order events arrive), the
// admin listener (/healthz, /readyz, one /metrics for all, the session API), the configuration in
// force (a reload is validated and audited here once, then sent to every worker), the drain at
// shutdown, and the restart of a worker that ends unasked (audited, with a backoff) or does not
// listen by its start's deadline.
import cluster, { type Worker } from 'node:cluster'
import type { FastifyInstance } from 'fastify'
import { Counter, Gauge } from 'prom-client'
import type { GatewayConfig } from '../config/types.js'
import { buildAdminApp } from '../ops/admin.js'
import { ClusterRegistry } from './cluster-metrics.js'
import {
  isClusterMessage,
  messageKind,
  toPrimary,
  type ToPrimary,
  type ToWorker,
  type WorkerMetrics,
  type WorkerReadiness,
} from './messages.js'
import { portSharing } from './port-sharing.js'
import { clusterReadiness } from './primary-readiness.js'
import { PrimaryStoreServer } from './primary-store.js'
import { RpcPeer } from './rpc.js'
import { WindowCounts } from './shared-rate-limit.js'
import { WorkerQuestions } from './worker-questions.js'
import { crashesInARow, restartDelayMs } from './restart-backoff.js'
import { STORE_CALL_TIMEOUT_MS, WORKER_NUMBER_ENV } from './worker.js'

interface Slot {
  n: number
  worker?: Worker | undefined
  listening: boolean
  startedAt: number
  crashes: number
  restartTimer?: NodeJS.Timeout | undefined
  /** the start's deadline, and the last step of its start the worker told */
  startTimer?: NodeJS.Timeout | undefined
  step?: string | undefined
}

export interface RunningCluster {
  url: string
  adminUrl?: string | undefined
  /** loads, validates and audits the configuration once; sends it to every worker when it is accepted */
  reloadFrom(load: () => GatewayConfig): void
  /** SIGUSR2: reopens the audit file (the primary holds it) */
  reopenAudit(): void
  /**
   * Drains every worker, waits for them, then flushes the audit; resolves with the events that could
   * not be written (a worker that did not stop cleanly counts as one at least).
   */
  stop(): Promise<number>
  log: { info(o: object, msg: string): void; error(o: object, msg: string): void }
}

export async function runPrimary(config: GatewayConfig, count: number): Promise<RunningCluster> {
  const { buildClusterPrimary } = await import('../gateway.js')
  const sharing = portSharing()
  cluster.setupPrimary({ serialization: 'advanced' })
  if (sharing === 'round-robin') cluster.schedulingPolicy = cluster.SCHED_RR
  const parts = buildClusterPrimary(config)
  const { logger, audit, auditOutput, routing, sessions, metrics } = parts
  let stopping = false
  /** audit events that reached the primary but could not be written, and workers that did not stop cleanly */
  let lost = 0
  const unclean: number[] = []
  // The memory store lives here, served to every worker; the rate limits count here for all of them.
  const storeServer = config.session.store.type === 'memory' ? new PrimaryStoreServer(sessions.store) : undefined
  const rateCounts = new WindowCounts()

  // ── the workers ──
  const slots: Slot[] = Array.from({ length: count }, (_, i) => ({
    n: i + 1,
    listening: false,
    startedAt: 0,
    crashes: 0,
  }))
  const live = () => slots.filter((s) => s.worker !== undefined)
  const restarts = new Counter({
    name: 'psc_gateway_worker_restarts_total',
    help: 'Worker processes restarted by the primary after they ended unasked (crash, kill)',
    registers: [metrics.registry],
  })
  new Gauge({
    name: 'psc_gateway_workers',
    help: 'Worker processes listening on the public port (workers: in the configuration)',
    registers: [metrics.registry],
    collect() {
      this.set(slots.filter((s) => s.listening).length)
    },
  })
  let started: { resolve(url: string): void; reject(err: Error): void; url?: string } | undefined
  const ready = new Promise<string>((resolve, reject) => {
    started = { resolve, reject }
  })

  const send = (w: Worker, message: ToWorker) => {
    if (w.isConnected()) w.send(message)
  }

  function fork(slot: Slot): Worker {
    const w = cluster.fork({ [WORKER_NUMBER_ENV]: String(slot.n), PSC_GATEWAY_PORT_SHARING: sharing })
    slot.worker = w
    slot.listening = false
    slot.startedAt = Date.now()
    slot.step = undefined
    const deadlineMs = routing.current().config.lifecycle.workerStartTimeoutMs
    slot.startTimer = setTimeout(() => late(slot, w, deadlineMs), deadlineMs)
    send(w, { type: 'psc-cluster:config', config: routing.current().config, reload: false })
    send(w, { type: 'psc-cluster:audit-state', ...auditState })
    const dropped = (kind: string, why: string) =>
      logger.error({ worker: slot.n, kind }, `worker message dropped: ${why}`)
    const peer = new RpcPeer(w, {
      timeoutMs: STORE_CALL_TIMEOUT_MS,
      onMalformed: (m) => dropped(messageKind(m), 'not a store call of the expected shape'),
    })
    storeServer?.serve(peer)
    rateCounts.serve(peer)
    w.on('message', (m: unknown) => {
      // Only a message of the expected shape is used; another is logged (its type, never its content) and dropped.
      if (!isClusterMessage(m)) return
      const ok = toPrimary(m)
      if (ok === undefined) {
        // An audit event that cannot be written is one lost: serve's exit code says so.
        if (m.type === 'psc-cluster:audit') lost++
        return dropped(messageKind(m), 'not of the expected shape')
      }
      try {
        fromWorker(slot, ok)
      } catch (err) {
        dropped(ok.type, err instanceof Error ? err.name : 'error')
      }
    })
    // A send that fails (the channel closing under it) is an 'error' event: unheard, it would end the primary.
    w.on('error', (err: Error) => logger.error({ worker: slot.n, error: err.message }, 'worker channel error'))
    w.once('exit', (code, signal) => exited(slot, w, code, signal))
    return w
  }

  function fromWorker(slot: Slot, m: ToPrimary): void {
    switch (m.type) {
      case 'psc-cluster:audit': {
        // The worker's number is the one the primary gave it: a worker cannot write in another's name.
        ;(m.event as { worker?: number }).worker = slot.n
        let w: void | Promise<void>
        try {
          w = auditOutput.write(m.event)
        } catch (err) {
          lost++
          throw err
        }
        if (w !== undefined) {
          refreshAuditState()
          void w.then(refreshAuditState)
        }
        return
      }
      case 'psc-cluster:starting':
        slot.step = m.step
        return
      case 'psc-cluster:listening':
        clearTimeout(slot.startTimer)
        slot.listening = true
        if (started !== undefined && slots.every((s) => s.listening)) {
          const s = started
          started = undefined
          s.resolve(m.url)
        }
        return
      case 'psc-cluster:answer':
        questions.answered(m.id, m.value)
    }
  }

  /** The worker did not listen by its deadline, and has not exited either: it is not waited for. */
  function late(slot: Slot, w: Worker, deadlineMs: number): void {
    if (slot.worker !== w || slot.listening || stopping) return
    const step = slot.step ?? 'no word from it since it was forked'
    const facts = { worker: slot.n, pid: w.process.pid ?? 0, deadlineMs, step }
    if (started !== undefined) {
      logger.error(facts, 'worker did not start in time: stopping the others')
      const s = started
      started = undefined
      s.reject(new Error(`worker ${slot.n} did not listen within ${deadlineMs / 1000} s (last step: ${step})`))
      return
    }
    // A restarted worker: killed, it is restarted as one that crashed (with the backoff).
    logger.error(facts, 'restarted worker did not listen in time: killed')
    w.process.kill('SIGKILL')
  }

  function exited(slot: Slot, w: Worker, code: number | null, signal: string | null): void {
    clearTimeout(slot.startTimer)
    if (slot.worker === w) {
      slot.worker = undefined
      slot.listening = false
    }
    if (stopping) return
    const pid = w.process.pid ?? 0
    const facts = { worker: slot.n, pid, ...(code !== null && { exitCode: code }), ...(signal !== null && { signal }) }
    logger.error(facts, 'worker exited unasked')
    void audit.write({ event: 'worker', outcome: 'exited', ...facts })
    if (started !== undefined) {
      // A worker that cannot start (port taken, a file it cannot read) would fail again: serve stops.
      const s = started
      started = undefined
      s.reject(new Error(`worker ${slot.n} exited before it listened (${signal ?? `exit code ${code}`})`))
      return
    }
    slot.crashes = crashesInARow(slot.crashes, Date.now() - slot.startedAt)
    const delayMs = restartDelayMs(slot.crashes)
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined
      if (stopping) return
      const next = fork(slot)
      restarts.inc()
      const restarted = { worker: slot.n, pid: next.process.pid ?? 0, restarts: slot.crashes, delayMs }
      logger.warn(restarted, 'worker restarted')
      void audit.write({ event: 'worker', outcome: 'restarted', ...restarted })
    }, delayMs)
  }

  // ── questions to the workers (metrics, readiness) ──
  const questions = new WorkerQuestions()
  const askAll = <T extends WorkerMetrics | WorkerReadiness>(what: 'metrics' | 'readiness') =>
    questions.ask<T>(
      what,
      live()
        .filter((s) => s.listening)
        .map((s) => ({ n: s.n, send: (m: ToWorker) => send(s.worker!, m) })),
    )

  // ── the audit outputs' state, passed on to the workers (block mode: requests wait while full) ──
  let auditState: { blocked: boolean; health: ReturnType<typeof auditOutput.health> } = {
    blocked: false,
    health: { ok: true },
  }
  function refreshAuditState(): void {
    const health = auditOutput.health()
    const blocked = !health.ok || auditOutput.whenRoom?.() !== undefined
    if (
      blocked === auditState.blocked &&
      health.ok === auditState.health.ok &&
      health.reason === auditState.health.reason
    )
      return
    auditState = { blocked, health }
    for (const s of live()) send(s.worker!, { type: 'psc-cluster:audit-state', ...auditState })
  }
  const auditStateTimer = setInterval(refreshAuditState, 200)
  auditStateTimer.unref()

  // ── the admin listener ──
  const checks = clusterReadiness({
    own: parts.readiness,
    fromWorkers: ['psc', 'sessions', ...(config.accounts !== undefined ? ['accounts'] : [])],
    ask: () => askAll<WorkerReadiness>('readiness'),
    expected: count,
    listening: () => slots.filter((s) => s.listening).map((s) => s.n),
  })
  const registry = new ClusterRegistry(metrics.registry, async () =>
    (await askAll<WorkerMetrics>('metrics')).map((a) => ({ worker: a.worker, metrics: a.value })),
  )
  const admin: FastifyInstance | undefined = config.admin.enabled
    ? buildAdminApp(checks, { metrics: registry, sessionApi: { sessions, audit, token: config.admin } })
    : undefined

  for (const slot of slots) fork(slot)
  let url: string
  try {
    url = await ready
  } catch (err) {
    stopping = true
    clearInterval(auditStateTimer)
    for (const s of slots) clearTimeout(s.startTimer)
    for (const s of live()) s.worker!.process.kill('SIGKILL')
    await parts.close()
    throw err
  }
  const adminUrl = admin ? await admin.listen({ host: config.admin.host, port: config.admin.port }) : undefined
  logger.info({ workers: count, portSharing: sharing }, 'psc-gateway workers listening')

  return {
    url,
    adminUrl,
    log: logger,
    reloadFrom(load) {
      if (stopping) return
      const outcome = routing.reloadFrom(load)
      if (!outcome.ok) return
      const next = routing.current().config
      for (const s of live()) send(s.worker!, { type: 'psc-cluster:config', config: next, reload: true })
    },
    reopenAudit: () => auditOutput.reopen(),
    async stop() {
      stopping = true
      parts.drain.closing = true
      for (const s of slots) {
        clearTimeout(s.restartTimer)
        clearTimeout(s.startTimer)
      }
      const { shutdownDelayMs, shutdownGraceMs } = config.lifecycle
      const gone = live().map(
        (s) =>
          new Promise<void>((resolve) => {
            const w = s.worker!
            // Every message a worker sent (its last audit events) is read before its channel closes.
            let left = 2
            const one = () => {
              if (--left === 0) resolve()
            }
            // A worker that exits 1 (events its channel refused, a drain that failed) or is killed may have lost events.
            if (w.isDead()) left--
            else
              w.once('exit', (code, signal) => {
                if (code !== 0 || signal !== null) unclean.push(s.n)
                one()
              })
            if (!w.isConnected()) left--
            else w.once('disconnect', one)
            if (left === 0) resolve()
            send(w, { type: 'psc-cluster:drain' })
          }),
      )
      // A worker that does not finish within its own deadlines (drain, grace, audit flush) is cut.
      const cutoff = setTimeout(
        () => {
          for (const s of live()) s.worker!.process.kill('SIGKILL')
        },
        shutdownDelayMs + shutdownGraceMs + config.audit.shutdownWaitMs + 5000,
      )
      await Promise.all(gone)
      clearTimeout(cutoff)
      clearInterval(auditStateTimer)
      await admin?.close()
      const unwritten = await parts.close()
      if (unclean.length > 0)
        logger.error({ workers: unclean }, 'worker(s) did not stop cleanly: their last audit events may be lost')
      // Each worker that did not stop cleanly counts as one event lost at least: the exit code must say so.
      return unwritten + lost + unclean.length
    },
  }
}
