// Audit events to a syslog server over RELP (rsyslog's Reliable Event Logging Protocol, imrelp):
// each message is a numbered transaction the server acknowledges once it has taken it, so a batch is
// done only when every one of its messages is acknowledged. Plain TCP and TLS syslog cannot say what
// a collector that stopped had really received: the last milliseconds were lost without trace.
// Here a connection that drops fails the batch (QueuedSink retries it, or counts it in a gap record
// in drop mode) and the messages already acknowledged are not sent again.
// The protocol (librelp's RELP v0): frames `TXNR SP COMMAND SP DATALEN [SP DATA] LF`; the client
// opens with `open` (offers), sends `syslog` frames, ends with `close`; the server answers each with
// `rsp` carrying the same txnr and "200 OK" (or an error code), and may send `serverclose`.
import { connect as netConnect, type Socket } from 'node:net'
import { hostname as osHostname } from 'node:os'
import type { BatchDestination } from './queue-contract.js'
import { syslogMessage } from './syslog-destination.js'

const CONNECT_TIMEOUT_MS = 5000
/** no answer from the server for this long: the connection is given up, the batch retried */
const ANSWER_TIMEOUT_MS = 10_000
/** messages sent and not yet acknowledged, at most (librelp's default window) */
const WINDOW = 128
const MAX_TXNR = 999_999_999

export interface RelpSettings {
  host: string
  port: number
  facility: number
  appName: string
  hostname?: string | undefined
}

export interface RelpFrame {
  txnr: number
  command: string
  data: Buffer
}

/** Reads RELP frames from a stream of chunks; throws on a frame that does not parse. */
export class RelpFrameReader {
  #buf: Buffer = Buffer.alloc(0)

  push(chunk: Buffer): RelpFrame[] {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk])
    const frames: RelpFrame[] = []
    for (;;) {
      const head = /^(\d{1,9}) ([a-z]{1,32}) (\d{1,9})/.exec(
        this.#buf.toString('latin1', 0, Math.min(this.#buf.length, 60)),
      )
      if (head === null) {
        if (this.#buf.length >= 60 || (this.#buf.length > 0 && !/^[\d a-z]*$/.test(this.#buf.toString('latin1'))))
          throw new Error('not a RELP frame')
        return frames
      }
      const len = Number(head[3])
      const dataAt = head[0].length + (len > 0 ? 1 : 0)
      const end = dataAt + len
      if (this.#buf.length < end + 1) {
        // the header is whole only once the byte after DATALEN is there (a space or the trailer)
        return frames
      }
      if ((len > 0 && this.#buf[head[0].length] !== 0x20) || this.#buf[end] !== 0x0a)
        throw new Error('not a RELP frame')
      frames.push({ txnr: Number(head[1]), command: head[2]!, data: this.#buf.subarray(dataAt, end) })
      this.#buf = this.#buf.subarray(end + 1)
    }
  }
}

export function relpFrame(txnr: number, command: string, data: string): string {
  const len = Buffer.byteLength(data)
  return len === 0 ? `${txnr} ${command} 0\n` : `${txnr} ${command} ${len} ${data}\n`
}

interface Connection {
  socket: Socket
  reader: RelpFrameReader
  /** answers awaited, by txnr */
  waiting: Map<number, (rsp: string | Error) => void>
  nextTxnr: number
}

export class RelpDestination implements BatchDestination {
  readonly name: string
  #s: RelpSettings
  #hostname: string
  #conn: Connection | undefined
  #connecting: Promise<Connection> | undefined
  #closed = false
  /** the batch that failed last, and how many of its first messages the server had acknowledged */
  #acked: { bodies: string[]; count: number } | undefined

  constructor(settings: RelpSettings) {
    this.#s = settings
    this.#hostname = settings.hostname ?? (osHostname() || '-')
    this.name = `syslog relp://${settings.host}:${settings.port}`
  }

  writeBatch(bodies: string[], done: (err?: Error | null) => void): void {
    if (this.#closed) return done(new Error(`${this.name} is closed`))
    // A retry of a batch cut by a lost connection: what the server acknowledged is not sent again.
    let skip = 0
    const acked = this.#acked
    if (acked !== undefined && acked.count <= bodies.length) {
      while (skip < acked.count && bodies[skip] === acked.bodies[skip]) skip++
      if (skip < acked.count) skip = 0
    }
    if (skip === bodies.length) {
      this.#acked = undefined
      return done()
    }
    const now = new Date()
    const fmt = { facility: this.#s.facility, appName: this.#s.appName, hostname: this.#hostname }
    this.#connect().then(
      (conn) => {
        // Kept until now: a retry that could not even connect still knows what was acknowledged.
        this.#acked = undefined
        let next = skip
        /** acknowledged in order from the start of the batch */
        let contiguous = skip
        const answered = new Set<number>()
        let inFlight = 0
        let failed = false
        const fail = (err: Error) => {
          if (failed) return
          failed = true
          this.#acked = { bodies, count: contiguous }
          this.#drop(conn)
          done(
            new Error(
              `${this.name}: ${err.message} (${bodies.length - contiguous} message(s) not acknowledged, sent again)`,
            ),
          )
        }
        const send = () => {
          let frames = ''
          while (!failed && inFlight < WINDOW && next < bodies.length) {
            const index = next++
            const txnr = conn.nextTxnr
            conn.nextTxnr = txnr >= MAX_TXNR ? 1 : txnr + 1
            inFlight++
            conn.waiting.set(txnr, (rsp) => {
              inFlight--
              if (rsp instanceof Error) return fail(rsp)
              if (!rsp.startsWith('200')) return fail(new Error(`the server refused a message: ${rsp.slice(0, 200)}`))
              answered.add(index)
              while (answered.delete(contiguous)) contiguous++
              if (contiguous === bodies.length) {
                failed = true
                return done()
              }
              send()
            })
            frames += relpFrame(txnr, 'syslog', syslogMessage(bodies[index]!, fmt, now))
          }
          if (frames !== '') conn.socket.write(frames)
        }
        send()
      },
      (err: Error) => done(err),
    )
  }

  async close(): Promise<void> {
    this.#closed = true
    const conn = this.#conn
    this.#conn = undefined
    if (conn === undefined || conn.socket.destroyed) return
    const txnr = conn.nextTxnr
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1000)
      conn.waiting.set(txnr, () => {
        clearTimeout(timer)
        resolve()
      })
      conn.socket.write(relpFrame(txnr, 'close', ''))
    })
    await new Promise<void>((resolve) => conn.socket.end(resolve))
    conn.socket.destroy()
  }

  #connect(): Promise<Connection> {
    if (this.#conn !== undefined && !this.#conn.socket.destroyed) return Promise.resolve(this.#conn)
    this.#connecting ??= new Promise<Connection>((resolve, reject) => {
      const socket = netConnect({ host: this.#s.host, port: this.#s.port })
      const conn: Connection = { socket, reader: new RelpFrameReader(), waiting: new Map(), nextTxnr: 1 }
      const timer = setTimeout(
        () => socket.destroy(new Error(`no RELP session within ${CONNECT_TIMEOUT_MS} ms`)),
        CONNECT_TIMEOUT_MS,
      )
      let opened = false
      const failed = (err: Error) => {
        clearTimeout(timer)
        this.#connecting = undefined
        socket.destroy()
        reject(new Error(`${this.name}: ${err.message}`))
      }
      socket.once('error', failed)
      socket.once('close', () => {
        if (!opened) failed(new Error('connection closed during the RELP open'))
      })
      // Silence from a server that still owes answers: it hung, give the connection up.
      socket.setTimeout(ANSWER_TIMEOUT_MS, () => {
        if (conn.waiting.size > 0) socket.destroy(new Error(`no answer from the server within ${ANSWER_TIMEOUT_MS} ms`))
      })
      socket.on('data', (chunk: Buffer) => {
        let frames: RelpFrame[]
        try {
          frames = conn.reader.push(chunk)
        } catch (err) {
          socket.destroy(err as Error)
          return
        }
        for (const f of frames) {
          if (f.command === 'serverclose') {
            socket.destroy(new Error('the server closed the RELP session'))
            return
          }
          if (f.command !== 'rsp') continue
          const answer = conn.waiting.get(f.txnr)
          conn.waiting.delete(f.txnr)
          answer?.(f.data.toString('utf8'))
        }
      })
      socket.once('connect', () => {
        conn.waiting.set(conn.nextTxnr, (rsp) => {
          clearTimeout(timer)
          if (rsp instanceof Error) return failed(rsp)
          if (!rsp.startsWith('200')) return failed(new Error(`the server refused the RELP open: ${rsp.slice(0, 200)}`))
          opened = true
          socket.off('error', failed)
          // Later errors fail what is in flight; the next batch opens a new session.
          socket.on('error', () => {})
          socket.on('close', () => this.#drop(conn))
          socket.unref()
          this.#conn = conn
          this.#connecting = undefined
          resolve(conn)
        })
        socket.write(relpFrame(conn.nextTxnr++, 'open', 'relp_version=0\nrelp_software=psc-gateway\ncommands=syslog'))
      })
    })
    return this.#connecting
  }

  /** The connection is gone: what waits for an answer fails (and is sent again by the retry). */
  #drop(conn: Connection): void {
    if (this.#conn === conn) this.#conn = undefined
    conn.socket.destroy()
    const waiting = [...conn.waiting.values()]
    conn.waiting.clear()
    for (const w of waiting) w(new Error('the RELP connection was lost'))
  }
}
