// Audit events to a syslog server (a SIEM collector or a relay): RFC 5424 messages, one JSON event
// per message (the same text as a stdout line), over TLS (RFC 5425: octet-counted frames on TCP),
// plain TCP (RFC 6587 octet counting; a local relay only) or UDP (RFC 5426: one datagram per
// message, lost without trace when the network drops it).
// QueuedSink stays in front: a batch that fails (connection refused, reset, TLS error) is retried
// with the same events on a new connection, so with block mode a syslog server that goes away makes
// requests wait then get 503 rather than go unaudited. TCP acknowledges nothing: the lines a server
// that died had received but not stored are lost with it, and a batch cut by a reset is sent again
// whole (a few events may arrive twice; their requestId tells them apart).
import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { connect as netConnect, type Socket } from 'node:net'
import { hostname as osHostname } from 'node:os'
import { connect as tlsConnect } from 'node:tls'
import type { BatchDestination } from './queue-contract.js'

const SEVERITY_INFO = 6
const SEVERITY_WARNING = 4
const CONNECT_TIMEOUT_MS = 5000

export interface SyslogSettings {
  transport: 'tls' | 'tcp' | 'udp'
  host: string
  port: number
  /** PEM texts (tls) */
  ca?: string | undefined
  cert?: string | undefined
  key?: string | undefined
  serverName?: string | undefined
  facility: number
  appName: string
  hostname?: string | undefined
}

/** The RFC 5424 message for one serialised event (a JSON object's text). */
export function syslogMessage(
  body: string,
  s: { facility: number; appName: string; hostname: string },
  now: Date = new Date(),
): string {
  const kind = /"event":"([a-z-]+)"/.exec(body)?.[1] ?? '-'
  // A lost-events record is worth a SIEM's attention; everything else is information.
  const severity = kind === 'gap' ? SEVERITY_WARNING : SEVERITY_INFO
  return `<${s.facility * 8 + severity}>1 ${now.toISOString()} ${s.hostname} ${s.appName} ${process.pid} ${kind} - {"log":"audit",${body.slice(1)}`
}

export class SyslogDestination implements BatchDestination {
  readonly name: string
  #s: SyslogSettings
  #hostname: string
  #socket: Socket | undefined
  #connecting: Promise<Socket> | undefined
  #udp: UdpSocket | undefined
  #closed = false

  constructor(settings: SyslogSettings) {
    this.#s = settings
    this.#hostname = settings.hostname ?? (osHostname() || '-')
    this.name = `syslog ${settings.transport}://${settings.host}:${settings.port}`
  }

  writeBatch(bodies: string[], done: (err?: Error | null) => void): void {
    if (this.#closed) return done(new Error(`${this.name} is closed`))
    if (bodies.length === 0) return done()
    const now = new Date()
    const fmt = { facility: this.#s.facility, appName: this.#s.appName, hostname: this.#hostname }
    if (this.#s.transport === 'udp')
      return this.#sendUdp(
        bodies.map((b) => syslogMessage(b, fmt, now)),
        done,
      )
    let frames = ''
    for (const b of bodies) {
      const m = syslogMessage(b, fmt, now)
      frames += `${Buffer.byteLength(m)} ${m}`
    }
    this.#connect().then(
      (socket) => {
        socket.write(frames, (err) => {
          if (err) {
            this.#drop(socket)
            return done(new Error(`${this.name}: ${err.message}`))
          }
          done()
        })
      },
      (err: Error) => done(err),
    )
  }

  async close(): Promise<void> {
    this.#closed = true
    const socket = this.#socket
    this.#socket = undefined
    if (socket !== undefined && !socket.destroyed) await new Promise<void>((resolve) => socket.end(resolve))
    const udp = this.#udp
    this.#udp = undefined
    if (udp !== undefined) await new Promise<void>((resolve) => udp.close(() => resolve()))
  }

  #connect(): Promise<Socket> {
    if (this.#socket !== undefined && !this.#socket.destroyed) return Promise.resolve(this.#socket)
    this.#connecting ??= new Promise<Socket>((resolve, reject) => {
      const s = this.#s
      const socket =
        s.transport === 'tls'
          ? tlsConnect({
              host: s.host,
              port: s.port,
              servername: s.serverName ?? (isIp(s.host) ? undefined : s.host),
              ca: s.ca,
              cert: s.cert,
              key: s.key,
            })
          : netConnect({ host: s.host, port: s.port })
      const ready = s.transport === 'tls' ? 'secureConnect' : 'connect'
      const timer = setTimeout(
        () => socket.destroy(new Error(`no connection within ${CONNECT_TIMEOUT_MS} ms`)),
        CONNECT_TIMEOUT_MS,
      )
      const failed = (err: Error) => {
        clearTimeout(timer)
        this.#connecting = undefined
        socket.destroy()
        reject(new Error(`${this.name}: ${err.message}`))
      }
      socket.once('error', failed)
      socket.once(ready, () => {
        clearTimeout(timer)
        socket.off('error', failed)
        // Later errors surface in the write callbacks; the socket is dropped and a new one made.
        socket.on('error', () => this.#drop(socket))
        socket.on('close', () => this.#drop(socket))
        // The server never talks back on this protocol; reading keeps a closed connection noticed.
        socket.resume()
        socket.unref()
        this.#socket = socket
        this.#connecting = undefined
        resolve(socket)
      })
    })
    return this.#connecting
  }

  #drop(socket: Socket): void {
    if (this.#socket === socket) this.#socket = undefined
    socket.destroy()
  }

  #sendUdp(messages: string[], done: (err?: Error | null) => void): void {
    if (this.#udp === undefined) {
      this.#udp = createSocket(this.#s.host.includes(':') ? 'udp6' : 'udp4')
      this.#udp.on('error', () => {})
      this.#udp.unref()
    }
    const udp = this.#udp
    let left = messages.length
    let failure: Error | undefined
    for (const m of messages) {
      udp.send(m, this.#s.port, this.#s.host, (err) => {
        if (err && failure === undefined) failure = new Error(`${this.name}: ${err.message}`)
        if (--left === 0) done(failure)
      })
    }
  }
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':')
}
