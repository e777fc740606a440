// A counter and a histogram for the metrics updated on every request. prom-client hashes the label
// set on every inc/observe, even through a labelled child: microseconds per request. Here a series is
// looked up once by its caller and kept; updating it is arithmetic on numbers. At scrape time they
// report to prom-client's Registry in the shape its own Counter and Histogram report (same text).
import type { Metric, Registry } from 'prom-client'

type Labels = Record<string, string>

interface Reported {
  labels: Labels
  value: number
  metricName?: string
}

abstract class SeriesMetric<S> {
  readonly #series = new Map<string, { labels: Labels; state: S }>()

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric)
  }

  protected stateFor(labels: Labels, make: () => S): S {
    const key = JSON.stringify(labels)
    let found = this.#series.get(key)
    if (found === undefined) {
      found = { labels: { ...labels }, state: make() }
      this.#series.set(key, found)
    }
    return found.state
  }

  protected abstract report(labels: Labels, state: S, into: Reported[]): void

  /** What prom-client's Registry reads at scrape time. */
  async get(): Promise<{ name: string; help: string; type: string; values: Reported[]; aggregator: 'sum' }> {
    const values: Reported[] = []
    for (const { labels, state } of this.#series.values()) this.report(labels, state, values)
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' }
  }

  reset(): void {
    this.#series.clear()
  }
}

export interface CounterSeries {
  inc(by?: number): void
}

class CounterState implements CounterSeries {
  value = 0
  inc(by = 1): void {
    this.value += by
  }
}

export class SeriesCounter extends SeriesMetric<CounterState> {
  constructor(name: string, help: string, registry: Registry) {
    super(name, help, 'counter', registry)
  }

  /** The series of these labels (made at 0 the first time); keep it, then `inc()` is cheap. */
  series(labels: Labels): CounterSeries {
    return this.stateFor(labels, () => new CounterState())
  }

  protected report(labels: Labels, state: CounterState, into: Reported[]): void {
    into.push({ labels, value: state.value })
  }
}

export interface HistogramSeries {
  observe(value: number): void
}

class HistogramState implements HistogramSeries {
  /** observations per bucket (not cumulative); the last one is above every bound */
  readonly counts: Float64Array
  sum = 0
  count = 0

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1)
  }

  observe(value: number): void {
    const bounds = this.bounds
    let i = 0
    while (i < bounds.length && value > bounds[i]!) i++
    this.counts[i]!++
    this.sum += value
    this.count++
  }
}

export class SeriesHistogram extends SeriesMetric<HistogramState> {
  readonly #bounds: readonly number[]

  constructor(name: string, help: string, buckets: readonly number[], registry: Registry) {
    super(name, help, 'histogram', registry)
    this.#bounds = [...buckets].sort((a, b) => a - b)
  }

  /** The series of these labels (made empty the first time); keep it, then `observe()` is cheap. */
  series(labels: Labels): HistogramSeries {
    return this.stateFor(labels, () => new HistogramState(this.#bounds))
  }

  protected report(labels: Labels, state: HistogramState, into: Reported[]): void {
    const bucket = `${this.name}_bucket`
    let cumulative = 0
    for (let i = 0; i < this.#bounds.length; i++) {
      cumulative += state.counts[i]!
      into.push({ labels: { le: String(this.#bounds[i]), ...labels }, value: cumulative, metricName: bucket })
    }
    into.push({ labels: { le: '+Inf', ...labels }, value: state.count, metricName: bucket })
    into.push({ labels, value: state.sum, metricName: `${this.name}_sum` })
    into.push({ labels, value: state.count, metricName: `${this.name}_count` })
  }
}
