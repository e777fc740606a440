// Runs `audit verify` / `audit query` over files as blocks of lines (line-blocks.ts): the per-line
// work (block-task.ts: an HMAC per line, a JSON.parse per row) on worker threads when the files are
// big, and the results handed back in file order to the caller, which keeps what must be sequential
// (the chain across blocks and files, the output). A million-line file took ~9 s on one thread of
// this 2-core machine, most of it in createHmac and JSON.parse, which nothing in node:crypto or V8
// makes cheaper per line. At most a few blocks are in flight, so memory stays flat.
import { stat } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import type { Worker } from 'node:worker_threads'
import { blockRunner, isCheapPerLine, type BlockResult, type BlockTask } from './block-task.js'
import type { FromBlockWorker, ToBlockWorker } from './block-worker.js'
import { readBlocks, type BlockReadResult } from './line-blocks.js'
import { siblingModule, startModuleThread } from '../module-thread.js'

const WORKER = siblingModule(import.meta.url, 'block-worker')
/** below this many bytes in all, one thread: starting workers would cost more than they save */
const THREADS_FROM_BYTES = 8 * 2 ** 20
const MAX_THREADS = 4
/** blocks (~1 MiB each) in flight per thread: enough to keep it busy, few enough for flat memory */
const IN_FLIGHT_PER_THREAD = 3

export interface BlockConsumer {
  beginFile(file: string): void
  /** a block's result, in file order; may return a promise (output backpressure) */
  block(file: string, block: Buffer, result: BlockResult): void | Promise<void>
  endFile(file: string, read: BlockReadResult): void
}

export interface PipelineOptions {
  /** worker threads; 0: all on the calling thread; default: by the files' size and the cores */
  threads?: number | undefined
}

export async function runBlocks(
  files: string[],
  task: BlockTask,
  consumer: BlockConsumer,
  options: PipelineOptions = {},
): Promise<void> {
  const threads = options.threads ?? (isCheapPerLine(task) ? 0 : await defaultThreads(files))
  if (threads === 0) {
    const run = blockRunner(task)
    for (const file of files) {
      consumer.beginFile(file)
      const read = await readBlocks(file, (block) => consumer.block(file, block, run(block)))
      consumer.endFile(file, read)
    }
    return
  }
  const pool = new BlockPool(threads, task)
  // Steps applied strictly in order: a block's result may arrive before the one of the block before.
  const steps: { result?: Promise<BlockResult>; apply: (r?: BlockResult) => void | Promise<void> }[] = []
  const applyFirst = async () => {
    const step = steps.shift()!
    const w = step.apply(step.result === undefined ? undefined : await step.result)
    if (w !== undefined) await w
  }
  try {
    for (const file of files) {
      steps.push({ apply: () => consumer.beginFile(file) })
      const read = await readBlocks(file, async (block) => {
        const result = pool.run(block)
        steps.push({ result, apply: (r) => consumer.block(file, block, r!) })
        while (steps.length > threads * IN_FLIGHT_PER_THREAD) await applyFirst()
      })
      steps.push({ apply: () => consumer.endFile(file, read) })
    }
    while (steps.length > 0) await applyFirst()
  } finally {
    await pool.close()
  }
}

async function defaultThreads(files: string[]): Promise<number> {
  const cores = availableParallelism()
  if (cores < 2) return 0
  let bytes = 0
  for (const f of files) bytes += (await stat(f)).size
  return bytes < THREADS_FROM_BYTES ? 0 : Math.min(cores, MAX_THREADS)
}

class BlockPool {
  #workers: Worker[] = []
  #next = 0
  #nextId = 1
  #waiting = new Map<number, { resolve: (r: BlockResult) => void; reject: (err: Error) => void }>()
  #failure: Error | undefined

  constructor(threads: number, task: BlockTask) {
    for (let i = 0; i < threads; i++) {
      const worker = startModuleThread(WORKER, task)
      worker.on('message', (m: FromBlockWorker) => {
        const waiting = this.#waiting.get(m.id)
        if (waiting === undefined) return
        this.#waiting.delete(m.id)
        if ('error' in m) waiting.reject(new Error(m.error))
        else waiting.resolve(m.result)
      })
      worker.on('error', (err) => this.#fail(err))
      worker.on('exit', (code) =>
        this.#fail(new Error(`a worker thread of the audit command stopped (exit code ${code})`)),
      )
      this.#workers.push(worker)
    }
  }

  run(block: Buffer): Promise<BlockResult> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure)
    const id = this.#nextId++
    const worker = this.#workers[this.#next++ % this.#workers.length]!
    // A copy moved to the thread (the caller keeps the block: a block with findings is read again).
    const copy = new Uint8Array(block)
    const result = new Promise<BlockResult>((resolve, reject) => this.#waiting.set(id, { resolve, reject }))
    // Awaited in order later; a failure before then must not count as unhandled.
    result.catch(() => {})
    worker.postMessage({ id, block: copy } satisfies ToBlockWorker, [copy.buffer])
    return result
  }

  #fail(err: Error): void {
    this.#failure ??= err
    for (const w of this.#waiting.values()) w.reject(err)
    this.#waiting.clear()
  }

  async close(): Promise<void> {
    this.#failure ??= new Error('closed')
    const workers = this.#workers
    this.#workers = []
    for (const w of workers) w.removeAllListeners('exit')
    await Promise.all(workers.map((w) => w.terminate()))
  }
}
