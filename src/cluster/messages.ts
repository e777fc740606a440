// What `serve`'s primary and its workers say to each other over the cluster's IPC channel (advanced
// serialization: the configuration goes as a structured clone). Every type starts with "psc-cluster:"
// so that other messages on the same channel (the shared session store's requests) are told apart.
// A message is used only once its shape is checked (toPrimary, toWorker): one of another shape is
// dropped by the caller, which logs its type only, never its content (an event, a configuration).
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
  /** how far the worker's start went (named when it does not listen in time) */
  | { type: 'psc-cluster:starting'; step: string }
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

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * A worker's message with the shape its type promises, or undefined. An audit event must be a plain
 * object the trail made (its version, time and event kind), so that writing it cannot throw.
 */
export function toPrimary(m: unknown): ToPrimary | undefined {
  if (!isClusterMessage<ToPrimary>(m)) return undefined
  switch (m.type) {
    case 'psc-cluster:audit': {
      const e: unknown = m.event
      return isRecord(e) && typeof e.v === 'number' && typeof e.time === 'string' && typeof e.event === 'string'
        ? m
        : undefined
    }
    case 'psc-cluster:starting':
      return typeof m.step === 'string' && m.step.length <= 100 ? m : undefined
    case 'psc-cluster:listening':
      return typeof m.url === 'string' ? m : undefined
    case 'psc-cluster:answer':
      return Number.isSafeInteger(m.id) && (Array.isArray(m.value) || isRecord(m.value)) ? m : undefined
    default:
      return undefined
  }
}

/** The primary's message with the shape its type promises, or undefined. */
export function toWorker(m: unknown): ToWorker | undefined {
  if (!isClusterMessage<ToWorker>(m)) return undefined
  switch (m.type) {
    case 'psc-cluster:config':
      return isRecord(m.config) && typeof m.reload === 'boolean' ? m : undefined
    case 'psc-cluster:audit-state':
      return typeof m.blocked === 'boolean' && isRecord(m.health) && typeof m.health.ok === 'boolean' ? m : undefined
    case 'psc-cluster:ask':
      return Number.isSafeInteger(m.id) && (m.what === 'metrics' || m.what === 'readiness') ? m : undefined
    case 'psc-cluster:drain':
      return m
    default:
      return undefined
  }
}

/** What a log line may say of a dropped message: its type, if it has a short one; never its content. */
export function messageKind(m: unknown): string {
  const type = isRecord(m) ? m.type : undefined
  return typeof type === 'string' ? type.slice(0, 64) : typeof m
}
