// Minimal types for the parts of autocannon 9 the bench uses (the package ships none).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  interface AutocannonOptions {
    url: string
    connections?: number
    duration?: number
    pipelining?: number
    timeout?: number
    method?: string
    headers?: Record<string, string>
    renderProgressBar?: boolean
    renderResultsTable?: boolean
    renderLatencyTable?: boolean
  }

  interface Histogram {
    average: number
    mean: number
    stddev: number
    min: number
    max: number
    total: number
    p50: number
    p90: number
    p99: number
  }

  interface AutocannonResult {
    url: string
    requests: Histogram & { sent: number }
    latency: Histogram
    throughput: Histogram
    errors: number
    timeouts: number
    non2xx: number
    resets: number
    duration: number
    connections: number
    '2xx': number
    statusCodeStats: Record<string, { count: number }>
  }

  interface Instance extends EventEmitter {
    stop(): void
  }

  function autocannon(opts: AutocannonOptions, cb: (err: Error | null, result: AutocannonResult) => void): Instance
  export default autocannon
  export type { AutocannonOptions, AutocannonResult, Instance }
}
