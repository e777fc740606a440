// The real audit file writer thread, except that it dies on its batch number `dieOnBatch`, before
// writing it: by an uncaught exception (a bug) or by process.exit (as when terminated).
import { parentPort, workerData } from 'node:worker_threads'
import type { ToFileWriter } from '../../src/audit/file-writer-messages.js'

const { dieOnBatch, dieBy } = workerData as { dieOnBatch: number; dieBy: 'throw' | 'exit' }
let batches = 0
function dieOnFatalBatch(message: ToFileWriter): void {
  if (message.kind !== 'batch' || ++batches !== dieOnBatch) return
  if (dieBy === 'exit') process.exit(3)
  throw new Error('file writer bug')
}

// The real writer's listener, wrapped: it never sees the fatal batch. (A listener of our own would
// start the port's flow of messages while the writer is still loading: a batch it missed would
// never be answered.)
const port = parentPort!
const on = port.on.bind(port)
port.on = ((event: string, listener: (message: ToFileWriter) => void) =>
  on(
    event,
    event === 'message'
      ? (message: ToFileWriter) => {
          dieOnFatalBatch(message)
          listener(message)
        }
      : listener,
  )) as typeof port.on
await import('../../src/audit/file-writer-worker.js')
