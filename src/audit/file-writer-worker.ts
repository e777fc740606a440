// The audit file's writer thread: formats, seals (HMAC chain) and writes the batches that
// WorkerDestination posts, with the same FileDestination the gateway used on its own thread, so the
// CPU this costs per request is spent on another core than the event loop's.
import { parentPort, workerData } from 'node:worker_threads'
import { FileDestination } from './fd-destination.js'
import type { FileWriterSettings, FromFileWriter, ToFileWriter } from './file-writer-messages.js'

const settings = workerData as FileWriterSettings
const dest = new FileDestination(settings.path, { hmacKey: settings.hmacKey, checkEveryMs: settings.checkEveryMs })
const port = parentPort!
const answer = (reply: FromFileWriter) => port.postMessage(reply)

port.on('message', (message: ToFileWriter) => {
  switch (message.kind) {
    case 'batch':
      // an empty batch (nothing but the chain-start to write) is an empty string
      dest.writeBatch(message.lines === '' ? [] : message.lines.split('\n'), (err) =>
        answer(
          err ? { id: message.id, error: err.message } : { id: message.id, head: dest.format.sealer?.position ?? null },
        ),
      )
      break
    case 'reopen':
      dest.reopen()
      break
    case 'close':
      void dest.close().then(() => answer({ id: message.id }))
      break
  }
})
