// The audit file, written by a worker thread: formatting, HMAC sealing and writing a batch cost the
// gateway's event loop ~8 µs per request, which made it the bottleneck while another core had room.
// QueuedSink stays in front, on the gateway's thread (queue, backpressure, retries), and keeps one
// batch in flight at a time, so the lines keep their order. The thread (file-writer-worker.ts) runs
// the same FileDestination as before.
// If the thread dies with a batch in flight, the batch fails (QueuedSink retries it) and the next
// batch starts a fresh thread, whose FileDestination opens the file again and writes a chain-start
// linking to the file's last line: the file still verifies. A thread that dies after its write
// reached the file but before it said so leaves that batch twice in the file (never lost), and the
// descriptor it had open stays open: a thread dies only on a bug or a resource limit.
import { closeSync, openSync } from 'node:fs'
import type { Worker } from 'node:worker_threads'
import type { FileWriterSettings, FromFileWriter, ToFileWriter } from './file-writer-messages.js'
import { siblingModule, startModuleThread } from './module-thread.js'
import type { BatchDestination } from './queue-contract.js'

const WRITER = siblingModule(import.meta.url, 'file-writer-worker')

/** Starts the thread that writes the file (tests start one that misbehaves). */
export type StartFileWriter = (settings: FileWriterSettings) => Worker

export const startFileWriter: StartFileWriter = (settings) => startModuleThread(WRITER, settings)

export interface WorkerDestinationOptions {
  hmacKey?: string | undefined
  /** how often, at most, the thread checks that the path still names its file (logrotate) */
  checkEveryMs?: number | undefined
  startWorker?: StartFileWriter
}

export class WorkerDestination implements BatchDestination {
  readonly path: string
  #settings: FileWriterSettings
  #start: StartFileWriter
  #worker: Worker | undefined
  #nextId = 1
  /** answers awaited from the thread (a batch, a close), by message id */
  #awaiting = new Map<number, (err?: Error) => void>()
  #idleWaiters: (() => void)[] = []
  #closed = false
  /** the chain's last line written, as the thread last said (undefined before the first batch) */
  head: { seq: number; mac: string; kid?: string } | null | undefined

  constructor(path: string, options: WorkerDestinationOptions = {}) {
    // Opened here, on the caller's thread, so that a path the gateway cannot write stops the start-up
    // at once with the OS's error, which names the path; the thread opens the file again for itself.
    closeSync(openSync(path, 'a+', 0o640))
    this.path = path
    this.#settings = { path, hmacKey: options.hmacKey, checkEveryMs: options.checkEveryMs }
    this.#start = options.startWorker ?? startFileWriter
    // Started now: the thread's start-up is paid before the first request, not by it.
    this.#worker = this.#spawn()
  }

  writeBatch(bodies: string[], done: (err?: Error | null) => void): void {
    if (this.#closed) return done(new Error(`audit file ${this.path} is closed`))
    this.#worker ??= this.#spawn()
    this.#ask(this.#worker, (id) => ({ kind: 'batch', id, lines: bodies.join('\n') }), done)
  }

  /** The thread reopens the file before its next batch (SIGUSR2 after logrotate moved it). */
  reopen(): void {
    // Without a thread there is nothing to reopen: the next one opens the file afresh.
    this.#worker?.postMessage({ kind: 'reopen' } satisfies ToFileWriter)
  }

  /** Waits for the batch in flight, closes the file in the thread, then ends the thread. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#awaiting.size > 0) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve))
    const worker = this.#worker
    if (worker === undefined) return
    await new Promise<void>((resolve) =>
      this.#ask(
        worker,
        (id) => ({ kind: 'close', id }),
        () => resolve(),
      ),
    )
    this.#worker = undefined
    await worker.terminate()
  }

  #spawn(): Worker {
    const worker = this.#start(this.#settings)
    // An idle thread must not keep the process alive; #ask refs it while an answer is awaited, so
    // that a batch in flight still reaches the file when the process ends naturally.
    worker.unref()
    worker.on('message', (reply: FromFileWriter) => {
      if (reply.head !== undefined && this.#worker === worker) this.head = reply.head
      this.#answered(reply.id, reply.error === undefined ? undefined : new Error(reply.error))
    })
    worker.on('error', (err: unknown) => this.#died(worker, err instanceof Error ? err.message : String(err)))
    worker.on('exit', (code) => this.#died(worker, `exit code ${code}`))
    return worker
  }

  #ask(worker: Worker, message: (id: number) => ToFileWriter, answered: (err?: Error) => void): void {
    const id = this.#nextId++
    this.#awaiting.set(id, answered)
    worker.ref()
    worker.postMessage(message(id))
  }

  #answered(id: number, err?: Error): void {
    const answered = this.#awaiting.get(id)
    // An answer from a thread already given up for dead: its batch was failed and is retried.
    if (answered === undefined) return
    this.#awaiting.delete(id)
    if (this.#awaiting.size === 0) {
      this.#worker?.unref()
      const idle = this.#idleWaiters
      this.#idleWaiters = []
      for (const w of idle) w()
    }
    answered(err)
  }

  /** 'error' then 'exit' for a crash, 'exit' alone when terminated: the first one counts. */
  #died(worker: Worker, cause: string): void {
    if (this.#worker !== worker) return
    this.#worker = undefined
    const err = new Error(`audit file writer thread stopped (${cause}); a new one takes over`)
    for (const id of [...this.#awaiting.keys()]) this.#answered(id, err)
  }
}
