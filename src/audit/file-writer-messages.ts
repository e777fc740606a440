// What the gateway and the audit file's writer thread (file-writer-worker.ts) say to each other.
// Only serialised events and error messages cross: the HMAC key goes once, in FileWriterSettings
// (the thread's workerData), and is never part of a message or an error.

/** The thread's workerData: what it needs to build its FileDestination. */
export interface FileWriterSettings {
  path: string
  hmacKey?: string | undefined
  checkEveryMs?: number | undefined
}

/**
 * A batch's `lines`: its events joined by "\n" (JSON text never holds a raw newline): one string
 * crosses to the thread at half the event loop's cost of an array of them.
 */
export type ToFileWriter =
  | { kind: 'batch'; id: number; lines: string }
  | { kind: 'reopen' }
  | { kind: 'close'; id: number }

/** The answer to a batch or a close, by its id; `error` is the message of a failed write. */
export interface FromFileWriter {
  id: number
  error?: string
  /** after a batch written: the chain's last line (for the periodic chain head) */
  head?: { seq: number; mac: string; kid?: string } | null
}
