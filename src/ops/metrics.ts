// Prometheus metrics of one gateway, in its own Registry (never prom-client's global one: tests and
// tools build several gateways in one process). Request, login and logout counts are derived from
// the audit events, so that what the dashboards count is exactly what the audit trail records.
// Labels are bounded sets (route and upstream names from the configuration, fixed vocabularies):
// never an idNat, a name, a path or any other personal or unbounded value.
import { PSC_ERR } from '../errors.js'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { AuditEvent, AuditSink } from '../audit/events.js'
import { SeriesCounter, SeriesHistogram, type CounterSeries, type HistogramSeries } from './series-metrics.js'

export interface GatewayMetrics {
  registry: Registry
  /** counts requests from `access` audit events (tee it with the configured audit sink) */
  auditSink: AuditSink
  /** another part calls this when a configuration reload is applied (ok) or refused */
  configReloads: Counter<'outcome'>
  upstream: {
    response(upstream: string, status: number, seconds: number): void
    error(upstream: string, error: unknown, seconds: number): void
  }
  psc: {
    call(endpoint: string, outcome: string, seconds: number): void
  }
}

export interface MetricsOptions {
  /** live sessions (approximate), read at scrape time */
  activeSessions(): number
  /** audit events discarded because the sink could not keep up (drop mode), read at scrape time */
  auditDropped?(): number
  /** failed audit write attempts since the start (disk full, syslog unreachable), read at scrape time */
  auditWriteFailures?(): number
  /** 1 while every audit output in block mode writes, 0 while one fails (requests then wait, then get 503) */
  auditWritable?(): boolean
  /** default Node process metrics (CPU, memory, event loop, GC); default true */
  processMetrics?: boolean
}

const PREFIX = 'psc_gateway_'
// Request latencies of a proxy: from a cached static file to a slow legacy report.
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

export function createGatewayMetrics(options: MetricsOptions): GatewayMetrics {
  const registry = new Registry()
  const registers = [registry]

  // Updated on every request: series kept by their label values (series-metrics.ts says why).
  const requests = new SeriesCounter(
    `${PREFIX}requests_total`,
    'Requests by route, access decision (allow, deny, login, reject) and status class',
    registry,
  )
  const requestDuration = new SeriesHistogram(
    `${PREFIX}request_duration_seconds`,
    'Whole request duration as seen by the gateway, by route and decision',
    LATENCY_BUCKETS,
    registry,
  )
  const logins = new Counter({
    name: `${PREFIX}logins_total`,
    help: 'PSC logins by outcome (started, succeeded, failed) and, for failures, reason',
    labelNames: ['outcome', 'reason'] as const,
    registers,
  })
  const logouts = new Counter({
    name: `${PREFIX}logouts_total`,
    help: 'Sessions ended, by cause (user, idle-expired, absolute-expired)',
    labelNames: ['cause'] as const,
    registers,
  })
  new Gauge({
    name: `${PREFIX}active_sessions`,
    help: 'Sessions held by the session store (approximate)',
    registers,
    collect() {
      this.set(options.activeSessions())
    },
  })
  let auditDroppedReported = 0
  new Counter({
    name: `${PREFIX}audit_dropped_events_total`,
    help: 'Audit events discarded because the audit sink could not keep up (audit.onBackpressure: drop)',
    registers,
    collect() {
      // The sink keeps the running total; a counter only goes up, so set it to that total.
      const total = options.auditDropped?.() ?? 0
      if (total > auditDroppedReported) {
        this.inc(total - auditDroppedReported)
        auditDroppedReported = total
      }
    },
  })
  let auditFailuresReported = 0
  new Counter({
    name: `${PREFIX}audit_write_failures_total`,
    help: 'Failed audit write attempts (disk full, I/O error, syslog unreachable); each failed batch is retried',
    registers,
    collect() {
      const total = options.auditWriteFailures?.() ?? 0
      if (total > auditFailuresReported) {
        this.inc(total - auditFailuresReported)
        auditFailuresReported = total
      }
    },
  })
  new Gauge({
    name: `${PREFIX}audit_writable`,
    help: '1 while the audit trail can be written; 0 while an output in block mode fails (new requests wait, then get 503)',
    registers,
    collect() {
      this.set(options.auditWritable?.() === false ? 0 : 1)
    },
  })
  const upstreamDuration = new SeriesHistogram(
    `${PREFIX}upstream_duration_seconds`,
    'Time from forwarding a request to the upstream response headers, by upstream and status class',
    LATENCY_BUCKETS,
    registry,
  )
  // Nested maps on the label values (configured names, constant classes): no key string per request.
  const upstreamSeries = new Map<string, Map<string, HistogramSeries>>()
  const upstreamDurationOf = (upstream: string, cls: string): HistogramSeries => {
    let byClass = upstreamSeries.get(upstream)
    if (byClass === undefined) {
      byClass = new Map()
      upstreamSeries.set(upstream, byClass)
    }
    let series = byClass.get(cls)
    if (series === undefined) {
      series = upstreamDuration.series({ upstream, status_class: cls })
      byClass.set(cls, series)
    }
    return series
  }
  const upstreamErrors = new Counter({
    name: `${PREFIX}upstream_errors_total`,
    help: 'Upstream requests that got no response, by upstream and kind (timeout, refused, reset, unresolved, socket, bad_response, other)',
    labelNames: ['upstream', 'kind'] as const,
    registers,
  })
  const pscCalls = new Counter({
    name: `${PREFIX}psc_calls_total`,
    help: 'HTTP calls to PSC by endpoint (discovery, token, userinfo, jwks, ...) and outcome',
    labelNames: ['endpoint', 'outcome'] as const,
    registers,
  })
  const pscDuration = new Histogram({
    name: `${PREFIX}psc_call_duration_seconds`,
    help: 'Duration of HTTP calls to PSC by endpoint',
    labelNames: ['endpoint'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  })
  const configReloads = new Counter({
    name: `${PREFIX}config_reloads_total`,
    help: 'Configuration reloads by outcome (ok, refused)',
    labelNames: ['outcome'] as const,
    registers,
  })
  // Zero series exist from the start, so rate() and alerts work before the first event.
  for (const outcome of ['ok', 'refused']) configReloads.inc({ outcome }, 0)
  for (const outcome of ['started', 'succeeded']) logins.inc({ outcome, reason: '' }, 0)

  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry })

  // The series are looked up once per (route, decision, status class) and kept (a bounded set:
  // routes are configured, decisions and classes fixed).
  type RequestSeries = { count: CounterSeries; duration: HistogramSeries }
  const requestChildren = new Map<string, Map<string, Map<string, RequestSeries>>>()
  const requestSeriesOf = (route: string, decision: string, cls: string): RequestSeries => {
    let byDecision = requestChildren.get(route)
    if (byDecision === undefined) {
      byDecision = new Map()
      requestChildren.set(route, byDecision)
    }
    let byClass = byDecision.get(decision)
    if (byClass === undefined) {
      byClass = new Map()
      byDecision.set(decision, byClass)
    }
    let series = byClass.get(cls)
    if (series === undefined) {
      series = {
        count: requests.series({ route, decision, status_class: cls }),
        duration: requestDuration.series({ route, decision }),
      }
      byClass.set(cls, series)
    }
    return series
  }
  const auditSink: AuditSink = {
    write(event: AuditEvent) {
      switch (event.event) {
        case 'access': {
          const child = requestSeriesOf(event.route ?? '(none)', event.decision, statusClass(event.status))
          child.count.inc()
          child.duration.observe(event.durationMs / 1000)
          return
        }
        case 'login':
          logins.inc({
            outcome: event.outcome,
            reason: event.outcome === 'failed' ? loginFailureKind(event.reason) : '',
          })
          return
        case 'logout':
          logouts.inc({ cause: event.cause })
      }
    },
  }

  return {
    registry,
    auditSink,
    configReloads,
    upstream: {
      response(upstream, status, seconds) {
        upstreamDurationOf(upstream, statusClass(status)).observe(seconds)
      },
      error(upstream, error, seconds) {
        upstreamErrors.inc({ upstream, kind: upstreamErrorKind(error) })
        upstreamDurationOf(upstream, 'error').observe(seconds)
      },
    },
    psc: {
      call(endpoint, outcome, seconds) {
        pscCalls.inc({ endpoint, outcome })
        pscDuration.observe({ endpoint }, seconds)
      },
    },
  }
}

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx']

/** A constant string per class: no string built per request. */
export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? STATUS_CLASSES[Math.floor(status / 100) - 1]! : 'other'
}

export const LOGIN_FAILURE_KINDS = [
  'state',
  'acr',
  'psc_error',
  'cancelled',
  'userinfo',
  'unreachable',
  'outbound_proxy',
  'client_certificate',
  'store',
  'other',
] as const
export type LoginFailureKind = (typeof LOGIN_FAILURE_KINDS)[number]

/** A login failure's code (PSC_ERR_LOGIN_*) → one of a few fixed label values. */
const LOGIN_FAILURE_KIND_OF: Readonly<Record<string, LoginFailureKind>> = {
  [PSC_ERR.LOGIN_NO_STATE.code]: 'state',
  [PSC_ERR.LOGIN_UNKNOWN_STATE.code]: 'state',
  [PSC_ERR.LOGIN_ACR_TOO_LOW.code]: 'acr',
  [PSC_ERR.LOGIN_PSC_ERROR.code]: 'psc_error',
  [PSC_ERR.LOGIN_NO_ID_TOKEN.code]: 'psc_error',
  [PSC_ERR.LOGIN_CANCELLED.code]: 'cancelled',
  [PSC_ERR.LOGIN_USERINFO.code]: 'userinfo',
  [PSC_ERR.LOGIN_PSC_UNREACHABLE.code]: 'unreachable',
  [PSC_ERR.LOGIN_OUTBOUND_PROXY.code]: 'outbound_proxy',
  [PSC_ERR.LOGIN_CLIENT_CERTIFICATE.code]: 'client_certificate',
  [PSC_ERR.LOGIN_STORE_UNAVAILABLE.code]: 'store',
}

export function loginFailureKind(code: string | undefined): LoginFailureKind {
  return (code !== undefined ? LOGIN_FAILURE_KIND_OF[code] : undefined) ?? 'other'
}

/** Upstream errors (undici's and Node's codes, and reply-from's for WebSocket) → a fixed vocabulary. */
export function upstreamErrorKind(error: unknown): string {
  const codes: string[] = []
  for (
    let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 4;
    e = e.cause as typeof e, depth++
  ) {
    if (typeof e.code === 'string') codes.push(e.code)
  }
  const has = (...c: string[]) => codes.some((x) => c.includes(x))
  if (
    has(
      'FST_REPLY_FROM_GATEWAY_TIMEOUT',
      'UND_ERR_CONNECT_TIMEOUT',
      'UND_ERR_HEADERS_TIMEOUT',
      'FST_REPLY_FROM_TIMEOUT',
      'ETIMEDOUT',
    )
  )
    return 'timeout'
  if (has('ECONNREFUSED')) return 'refused'
  if (has('ECONNRESET')) return 'reset'
  if (has('ENOTFOUND', 'EAI_AGAIN', 'FST_REPLY_FROM_SERVICE_UNAVAILABLE')) return 'unresolved'
  if (has('UND_ERR_SOCKET')) return 'socket'
  if (has('FST_REPLY_FROM_BAD_GATEWAY', 'PSC_UPSTREAM_BAD_STATUS')) return 'bad_response'
  return 'other'
}

/**
 * The configured audit sink first, unchanged: its result (backpressure promise) and `whenRoom` are
 * passed through. Then observers such as the metrics sink, which must never break the audit trail
 * or a request.
 */
export function teeAuditSinks(primary: AuditSink, ...observers: AuditSink[]): AuditSink {
  const tee: AuditSink = {
    write(event) {
      const result = primary.write(event)
      for (const observer of observers) {
        try {
          void observer.write(event)
        } catch {
          // a metric lost is not worth a failed request
        }
      }
      return result
    },
  }
  if (primary.whenRoom) tee.whenRoom = () => primary.whenRoom!()
  return tee
}
