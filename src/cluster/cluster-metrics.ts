// One /metrics for `serve`'s cluster, served by the primary's admin listener: the workers' registries
// (asked over IPC as prom-client JSON) summed with prom-client's AggregatorRegistry, so that requests,
// logins, upstream and PSC calls count for the whole gateway as they would in one process. Only the
// Node process metrics (CPU, memory, event loop, GC) keep a `worker` label ("primary", "1", "2"...):
// summing two heaps or averaging two event loops would hide the one that suffers. What the primary
// alone knows (its audit outputs, the session store it holds, reloads, readiness, the workers) is
// taken from the primary; the workers' copies of those names are left out.
import { AggregatorRegistry, Registry, type Metric } from 'prom-client'
import type { WorkerMetrics } from './messages.js'

const PRIMARY_OWNED = new Set([
  'psc_gateway_active_sessions',
  'psc_gateway_audit_dropped_events_total',
  'psc_gateway_audit_write_failures_total',
  'psc_gateway_audit_writable',
  'psc_gateway_config_reloads_total',
  'psc_gateway_readiness_check_ok',
  'psc_gateway_worker_restarts_total',
  'psc_gateway_workers',
])

/** prom-client's default metrics: per process, never summed. */
const perProcess = (name: string) => name.startsWith('process_') || name.startsWith('nodejs_')

function labelled(metrics: WorkerMetrics, worker: string): WorkerMetrics {
  return metrics.map((m) =>
    perProcess(m.name)
      ? { ...m, aggregator: 'sum', values: m.values.map((v) => ({ ...v, labels: { ...v.labels, worker } })) }
      : m,
  )
}

/** The primary's registry as /metrics shows it: its own metrics, and its workers' added up. */
export class ClusterRegistry extends Registry {
  readonly #own: Registry
  readonly #workers: () => Promise<Array<{ worker: number; metrics: WorkerMetrics }>>

  constructor(own: Registry, workers: () => Promise<Array<{ worker: number; metrics: WorkerMetrics }>>) {
    super()
    this.#own = own
    this.#workers = workers
  }

  /** Metrics registered here (the admin listener's readiness gauge) are the primary's own. */
  override registerMetric(metric: Metric): void {
    this.#own.registerMetric(metric)
  }

  override async metrics(): Promise<string> {
    const own = (await this.#own.getMetricsAsJSON()) as WorkerMetrics
    const lists = [
      labelled(
        own.filter((m) => PRIMARY_OWNED.has(m.name) || perProcess(m.name)),
        'primary',
      ),
    ]
    for (const { worker, metrics } of await this.#workers())
      lists.push(
        labelled(
          metrics.filter((m) => !PRIMARY_OWNED.has(m.name)),
          String(worker),
        ),
      )
    return AggregatorRegistry.aggregate(lists).metrics()
  }
}
