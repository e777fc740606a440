// The audit outputs a configuration asks for (stdout, a chained file, syslog), behind one
// AuditSink, with what operations need: reopen (SIGUSR2), health (readiness), admit (the bounded
// wait of new requests while the trail cannot be written), counters (metrics), the chain head sent
// to the other outputs, flush, and close (shutdown, counting what could not be written).
import { readFileSync } from 'node:fs'
import type { AuditSink } from './events.js'
import { FdDestination } from './fd-destination.js'
import { lockAuditFile, type AuditFileLock } from './file-lock.js'
import { QueuedSink } from './queued-sink.js'
import type { BackpressureMode, SinkHealth } from './queue-contract.js'
import { AUDIT_SCHEMA_VERSION, type AuditEvent, type ChainHead } from './event-schema.js'
import { RelpDestination } from './relp-destination.js'
import { SyslogDestination, type SyslogSettings } from './syslog-destination.js'
import { WorkerDestination } from './worker-destination.js'

export interface AuditSettings {
  stdout: boolean
  file?: string | undefined
  hmacKey?: string | undefined
  onBackpressure: BackpressureMode
  includeQuery: boolean
  maxQueuedEvents: number
  /** how often the chain head goes to the other outputs (default 60 s; 0: never) */
  headEveryMs?: number | undefined
  syslog?: AuditSyslogSettings | undefined
}

/** audit.syslog as configured: PEM files by name (read at start), or their text. */
export type AuditSyslogSettings = Omit<SyslogSettings, 'port' | 'transport'> & {
  /** relp: RELP (rsyslog's imrelp), each message acknowledged by the server */
  transport: SyslogSettings['transport'] | 'relp'
  port?: number | undefined
  caFile?: string | undefined
  certFile?: string | undefined
  keyFile?: string | undefined
  onBackpressure: BackpressureMode
  maxQueuedEvents: number
}

const SYSLOG_PORTS = { tls: 6514, tcp: 514, udp: 514, relp: 2514 } as const

function syslogDestination(y: AuditSyslogSettings): SyslogDestination | RelpDestination {
  const port = y.port ?? SYSLOG_PORTS[y.transport]
  if (y.transport === 'relp')
    return new RelpDestination({ host: y.host, port, facility: y.facility, appName: y.appName, hostname: y.hostname })
  return new SyslogDestination(syslogSettings({ ...y, transport: y.transport }))
}

function syslogSettings(y: AuditSyslogSettings & { transport: SyslogSettings['transport'] }): SyslogSettings {
  const read = (file: string | undefined) => (file === undefined ? undefined : readFileSync(file, 'utf8'))
  return {
    transport: y.transport,
    host: y.host,
    port: y.port ?? SYSLOG_PORTS[y.transport],
    facility: y.facility,
    appName: y.appName,
    hostname: y.hostname,
    serverName: y.serverName,
    ca: y.ca ?? read(y.caFile),
    cert: y.cert ?? read(y.certFile),
    key: y.key ?? read(y.keyFile),
  }
}

/** What the outputs report to the operational log (once per outage, not once per event). */
export interface AuditOutputObserver {
  /** an output's writes started failing (block: events are kept and retried, requests wait; drop: they are dropped and counted) */
  failing?(output: string, err: Error, mode: BackpressureMode): void
  /** events were dropped (at the first, then at most every 10 s with the count since the last call) */
  dropped?(output: string, lost: number, reason: string): void
  /** an output writes again after `failedWrites` failures over `ms` */
  recovered?(output: string, failedWrites: number, ms: number): void
  /** the chain head was sent to the other outputs */
  head?(head: ChainHead): void
}

export interface AuditOutput extends AuditSink {
  /** events lost because a queue was full in drop mode, or past its ceiling while failing (each covered by a gap event) */
  readonly droppedEvents: number
  /** failed write attempts since the start (psc_gateway_audit_write_failures_total) */
  readonly writeFailures: number
  /** events that could not be written when the outputs were closed */
  readonly unwritten: number
  /** false (with the reason) while an output in block mode cannot write: the gateway is not ready */
  health(): SinkHealth
  /** undefined: a request may go on now; else resolves true when it may, false after timeoutMs (then 503) */
  admit(timeoutMs: number): Promise<boolean> | undefined
  /** the chained file's last line written, when there is a file */
  head(): ChainHead | undefined
  /** reopens the audit file (after logrotate moved it); a no-op without a file */
  reopen(): void
  flush(): Promise<void>
  /** Writes what is queued, waiting at most timeoutMs on outputs that fail; returns (and reports on stderr) what could not be written. */
  close(timeoutMs?: number): Promise<number>
}

interface Named {
  name: string
  sink: QueuedSink
}

export function createAuditOutput(
  settings: AuditSettings,
  observer: AuditOutputObserver | ((err: Error) => void) = {},
): AuditOutput {
  const obs: AuditOutputObserver =
    typeof observer === 'function' ? { failing: (_name, err) => observer(err) } : observer
  const queue = (name: string, mode: BackpressureMode, maxQueuedEvents: number) => ({
    name,
    onBackpressure: mode,
    maxQueuedEvents,
    onError: (err: Error) =>
      obs.failing
        ? obs.failing(name, err, mode)
        : process.stderr.write(
            `psc-gateway audit: ${name}: write failed, ${mode === 'drop' ? 'events are dropped and counted' : 'retrying (events are kept)'}: ${err.message}\n`,
          ),
    onRecover: (n: number, ms: number) => obs.recovered?.(name, n, ms),
    ...(obs.dropped !== undefined && { onDrop: (lost: number, reason: string) => obs.dropped!(name, lost, reason) }),
  })
  const sinks: Named[] = []
  let file: { dest: WorkerDestination; sink: QueuedSink; lock: AuditFileLock } | undefined
  // The file's lock first: a second gateway on the same file is refused before it opens anything.
  const lock = settings.file === undefined ? undefined : lockAuditFile(settings.file)
  if (settings.stdout)
    sinks.push({
      name: 'stdout',
      sink: new QueuedSink(
        new FdDestination(1),
        queue('audit stdout', settings.onBackpressure, settings.maxQueuedEvents),
      ),
    })
  if (settings.syslog !== undefined) {
    const dest = syslogDestination(settings.syslog)
    sinks.push({
      name: dest.name,
      sink: new QueuedSink(
        dest,
        queue(`audit ${dest.name}`, settings.syslog.onBackpressure, settings.syslog.maxQueuedEvents),
      ),
    })
  }
  if (settings.file !== undefined) {
    // Formatting, sealing and writing the file run in a worker thread; a path that cannot be
    // opened still throws here, so the gateway refuses to start.
    let dest: WorkerDestination
    try {
      dest = new WorkerDestination(settings.file, { hmacKey: settings.hmacKey })
    } catch (err) {
      lock!.release()
      throw err
    }
    const sink = new QueuedSink(
      dest,
      queue(`audit file ${settings.file}`, settings.onBackpressure, settings.maxQueuedEvents),
    )
    sinks.push({ name: `file ${settings.file}`, sink })
    file = { dest, sink, lock: lock! }
    // What the previous process could not write before it stopped: a gap record, first thing.
    const carried = lock!.carried
    if (carried !== undefined) {
      sink.carry(carried)
      void sink.flush().then(() => {
        if (sink.unwritten === 0) lock!.carriedWritten()
      })
    } else {
      // The chain-start goes out at once: the file shows the start even before the first request.
      sink.nudge()
    }
  }
  const others = sinks.filter((s) => s.sink !== file?.sink)

  // The chain head, to the outputs that are not the file: a file cut short or replaced no longer
  // contains the last head they received (audit verify --expect-head).
  let lastHeadSent = ''
  const head = (): ChainHead | undefined => {
    const h = file?.dest.head
    if (file === undefined || h == null) return undefined
    return {
      v: AUDIT_SCHEMA_VERSION,
      time: new Date().toISOString(),
      event: 'chain-head',
      file: file.dest.path,
      seq: h.seq,
      mac: h.mac,
      kid: h.kid ?? '',
    }
  }
  const sendHead = () => {
    const h = head()
    if (h === undefined || h.mac === lastHeadSent) return
    lastHeadSent = h.mac
    const body = JSON.stringify(h)
    for (const o of others) void o.sink.enqueue(body)
    obs.head?.(h)
  }
  const headEveryMs = settings.headEveryMs ?? 60_000
  const headTimer = file !== undefined && headEveryMs > 0 ? setInterval(sendHead, headEveryMs) : undefined
  headTimer?.unref()

  const output = fanOut(
    sinks.map((s) => s.sink),
    () => {
      if (file === undefined) return
      file.dest.reopen()
      file.sink.nudge()
    },
    head,
  )
  output.close = async (timeoutMs?: number) => {
    clearInterval(headTimer)
    // The file first, so that its final head reaches the other outputs before they close.
    let unwritten = 0
    const report = (name: string, n: number) => {
      if (n > 0)
        process.stderr.write(
          `psc-gateway audit: ${n} event(s) could not be written to ${name} before shutdown (see the operational log for the error)\n`,
        )
    }
    if (file !== undefined) {
      const n = await file.sink.close(timeoutMs)
      report(`the audit file ${file.dest.path}`, n)
      unwritten += n
      // The count stays next to the file: the next start writes it into the chain as a gap.
      const span = file.sink.unwrittenSpan
      if (span !== undefined) file.lock.releaseWithUnwritten(span)
      else file.lock.release()
      sendHead()
    }
    for (const o of others) {
      const n = await o.sink.close(timeoutMs)
      report(`audit ${o.name}`, n)
      unwritten += n
    }
    return unwritten
  }
  return output
}

function fanOut(sinks: QueuedSink[], reopen: () => void, head: () => ChainHead | undefined): AuditOutput {
  const blocking = sinks.filter((s) => s.mode === 'block')
  return {
    get droppedEvents() {
      return sinks.reduce((n, s) => n + s.droppedEvents, 0)
    },
    get writeFailures() {
      return sinks.reduce((n, s) => n + s.writeFailures, 0)
    },
    get unwritten() {
      return sinks.reduce((n, s) => n + s.unwritten, 0)
    },
    write(event: AuditEvent) {
      const body = JSON.stringify(event)
      let waits: Promise<void>[] | undefined
      for (const s of sinks) {
        const w = s.enqueue(body)
        if (w !== undefined) {
          waits ??= []
          waits.push(w)
        }
      }
      if (waits !== undefined) return Promise.all(waits).then(() => {})
    },
    whenRoom() {
      const waits = sinks.map((s) => s.whenRoom()).filter((w) => w !== undefined)
      return waits.length === 0 ? undefined : Promise.all(waits).then(() => {})
    },
    health() {
      // An output in drop mode that fails loses events (with gap records) but never stops the service.
      const failing = blocking.map((s) => s.health()).filter((h) => !h.ok)
      return failing.length === 0 ? { ok: true } : { ok: false, reason: failing.map((h) => h.reason).join('; ') }
    },
    admit(timeoutMs: number) {
      // On every request: no allocation when every output can take its event.
      let waits: Promise<boolean>[] | undefined
      for (const s of blocking) {
        const w = s.admit(timeoutMs)
        if (w !== undefined) {
          waits ??= []
          waits.push(w)
        }
      }
      if (waits === undefined) return undefined
      return Promise.all(waits).then((oks) => oks.every(Boolean))
    },
    head,
    reopen,
    async flush() {
      await Promise.all(sinks.map((s) => s.flush()))
    },
    async close(timeoutMs?: number) {
      let n = 0
      for (const s of sinks) n += await s.close(timeoutMs)
      return n
    },
  }
}

/** Wraps a sink handed in by the caller (tests capture events this way). */
export function outputOf(sink: AuditSink): AuditOutput {
  const s = sink as AuditSink & Partial<AuditOutput> & { writable?: boolean }
  return {
    get droppedEvents() {
      return s.droppedEvents ?? 0
    },
    get writeFailures() {
      return s.writeFailures ?? 0
    },
    get unwritten() {
      return s.unwritten ?? 0
    },
    write: (event) => s.write(event),
    whenRoom: () => s.whenRoom?.(),
    health: () => s.health?.() ?? { ok: true },
    admit: (timeoutMs) => {
      if (s.admit !== undefined) return s.admit(timeoutMs)
      const room = s.whenRoom?.()
      return room === undefined ? undefined : room.then(() => true)
    },
    head: () => s.head?.(),
    reopen: () => s.reopen?.(),
    flush: async () => {
      await s.flush?.()
    },
    close: async (timeoutMs?: number) => (await s.close?.(timeoutMs)) ?? 0,
  }
}
