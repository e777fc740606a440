// A thread of `audit verify` / `audit query` on big files: runs the task (block-task.ts) on the
// blocks block-pipeline.ts sends, one at a time, and answers each with its result.
import { parentPort, workerData } from 'node:worker_threads'
import { blockRunner, type BlockResult, type BlockTask } from './block-task.js'

export type ToBlockWorker = { id: number; block: Uint8Array }
export type FromBlockWorker = { id: number; result: BlockResult } | { id: number; error: string }

const run = blockRunner(workerData as BlockTask)
const port = parentPort!

port.on('message', (message: ToBlockWorker) => {
  let reply: FromBlockWorker
  try {
    reply = { id: message.id, result: run(message.block) }
  } catch (err) {
    reply = { id: message.id, error: (err as Error).message }
  }
  port.postMessage(reply)
})
