// Destinations on a file descriptor: stdout (fd 1), or an audit file that follows logrotate.
// Writes go through libuv's thread pool (fs.write), never blocking the event loop on a slow disk.
// The file is reopened (and its chain restarted with a chain-start that names the last line written
// before) when `reopen()` is called (the CLI calls it on SIGUSR2), and when a cheap stat, at most
// once a second before a batch, shows that the path is gone, names another file (moved by
// logrotate) or is shorter than what was written (truncated).
import { fstatSync, ftruncate, openSync, readSync, close, stat, write } from 'node:fs'
import { lastPositionIn } from './chain.js'
import { LineFormat } from './line-format.js'
import type { BatchDestination } from './queue-contract.js'

function writeAll(fd: number, buf: Buffer, offset: number, done: (err: NodeJS.ErrnoException | null) => void): void {
  write(fd, buf, offset, buf.length - offset, null, (err, n) => {
    // A non-blocking pipe (stdout read by a slow collector) says EAGAIN: try again shortly.
    if (err?.code === 'EAGAIN') return void setTimeout(() => writeAll(fd, buf, offset, done), 5)
    if (err) return done(err)
    offset += n
    if (offset < buf.length) writeAll(fd, buf, offset, done)
    else done(null)
  })
}

/** Writes to an already open descriptor (stdout). */
export class FdDestination implements BatchDestination {
  readonly format: LineFormat

  constructor(
    private readonly fd: number,
    options: { hmacKey?: string | Buffer; name?: string } = {},
  ) {
    this.format = new LineFormat(options.hmacKey)
    this.format.opened(options.name ?? `fd ${fd}`, 'open', null)
  }

  writeBatch(bodies: string[], done: (err?: Error | null) => void): void {
    const { text, commit } = this.format.format(bodies)
    if (text === '') return done()
    writeAll(this.fd, Buffer.from(text), 0, (err) => {
      if (!err) commit()
      done(err)
    })
  }
}

const TAIL_BYTES = 64 * 1024

/** An append-only audit file that reopens on request and on rotation. */
export class FileDestination implements BatchDestination {
  readonly format: LineFormat
  readonly path: string
  #fd: number | undefined
  #ino = 0
  #dev = 0
  /** the file's size as we know it: what it had at open plus what we wrote */
  #size = 0
  /** the file must be (re)opened before the next write, and why */
  #reopenDue: 'open' | 'reopen' | undefined = 'open'
  #lastCheck = 0
  #checkEveryMs: number

  constructor(path: string, options: { hmacKey?: string | Buffer; checkEveryMs?: number } = {}) {
    this.path = path
    this.format = new LineFormat(options.hmacKey)
    this.#checkEveryMs = options.checkEveryMs ?? 1000
  }

  /** Opens the file again at the next batch (SIGUSR2 after logrotate moved it). */
  reopen(): void {
    if (this.#fd !== undefined) this.#reopenDue = 'reopen'
  }

  writeBatch(bodies: string[], done: (err?: Error | null) => void): void {
    const proceed = () => {
      try {
        this.#open()
      } catch (err) {
        return done(err as Error)
      }
      const { text, commit } = this.format.format(bodies)
      if (text === '') return done()
      const buf = Buffer.from(text)
      const fd = this.#fd!
      writeAll(fd, buf, 0, (err) => {
        if (err) {
          // A full disk takes part of a batch: cut the file back to where the batch began, so that
          // the retry (the same lines, the same seq numbers) neither repeats lines nor leaves half a
          // line behind, and the chain goes on as if the failure had never been.
          return ftruncate(fd, this.#size, (truncErr) => {
            // Cannot cut it back: the retry goes to a freshly opened file, after a chain-start.
            if (truncErr) this.#reopenDue = 'reopen'
            done(err)
          })
        }
        this.#size += buf.length
        commit()
        done()
      })
    }
    const now = Date.now()
    if (this.#fd === undefined || this.#reopenDue !== undefined || now - this.#lastCheck < this.#checkEveryMs)
      return proceed()
    this.#lastCheck = now
    stat(this.path, (err, st) => {
      if (err !== null || st.ino !== this.#ino || st.dev !== this.#dev || st.size < this.#size)
        this.#reopenDue = 'reopen'
      proceed()
    })
  }

  async close(): Promise<void> {
    const fd = this.#fd
    this.#fd = undefined
    if (fd !== undefined) await new Promise<void>((resolve) => close(fd, () => resolve()))
  }

  #open(): void {
    if (this.#fd !== undefined && this.#reopenDue === undefined) return
    const reason = this.#reopenDue ?? 'reopen'
    // a+: appends, and lets the tail be read to continue the chain
    const fd = openSync(this.path, 'a+', 0o640)
    const st = fstatSync(fd)
    // After a restart, the chain continues from the last line already in the file.
    const sealer = this.format.sealer
    const last =
      sealer !== undefined && sealer.position === null && st.size > 0 ? readLastPosition(fd, st.size) : undefined
    // The file's last line signed by another key: the gateway restarted with a new key.
    const keyChanged = last != null && !sealer!.signed(last.line)
    const previous =
      last == null ? last : { seq: last.seq, mac: last.mac, ...(last.kid !== undefined && { kid: last.kid }) }
    if (this.#fd !== undefined) {
      const old = this.#fd
      close(old, () => {})
    }
    this.#fd = fd
    this.#ino = st.ino
    this.#dev = st.dev
    this.#size = st.size
    this.#lastCheck = Date.now()
    this.format.opened(this.path, keyChanged ? 'key-change' : reason, previous)
    this.#reopenDue = undefined
  }
}

function readLastPosition(fd: number, size: number) {
  const length = Math.min(TAIL_BYTES, size)
  const buf = Buffer.alloc(length)
  readSync(fd, buf, 0, length, size - length)
  return lastPositionIn(buf.toString('utf8'))
}
