// What `serve`'s primary and its workers say to each other over the cluster's IPC channel (advanced
// serialization: the configuration goes as a structured clone). Every type starts with "psc-cluster:"
// so that other messages on the same channel (the shared session store's requests) are told apart.
import type { AuditEvent } from '../audit/events.js'
import type { SinkHealth } from '../audit/queue-contract.js'
import type { CheckResult } from '../ops/admin.js'
import type { GatewayConfig } from '../config/types.js'
import type { MetricObjectWithValues, MetricValue } from 'prom-client'

/** primary → worker */
export type ToWorker =
  /** the configuration in force: at the worker's start, then after each reload the primary accepted */
  | { type: 'psc-cluster:config'; config: GatewayConfig; reload: boolean }
  /** whether a new request may go on now (the primary's audit outputs can take its events) */
  | { type: 'psc-cluster:audit-state'; blocked: boolean; health: SinkHealth }
  /** the primary asks for the worker's metrics or readiness; answered with the same id */
  | { type: 'psc-cluster:ask'; id: number; what: 'metrics' | 'readiness' }
  /** shutdown: stop accepting, finish what is in flight, exit */
  | { type: 'psc-cluster:drain' }

export type WorkerMetrics = MetricObjectWithValues<MetricValue<string>>[]
export type WorkerReadiness = Record<string, CheckResult>

/** worker → primary */
export type ToPrimary =
  | { type: 'psc-cluster:audit'; event: AuditEvent }
  | { type: 'psc-cluster:listening'; url: string }
  | { type: 'psc-cluster:answer'; id: number; value: WorkerMetrics | WorkerReadiness }

export function isClusterMessage<T extends { type: string }>(message: unknown): message is T {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { type?: unknown }).type === 'string' &&
    (message as { type: string }).type.startsWith('psc-cluster:')
  )
}
