// Reads an audit file line by line, fast and in constant memory, gzip-compressed or not (logrotate's
// `compress` leaves audit.log.2.gz): recognised by its magic bytes, not its name. readline cost
// more than the HMAC of each line; this splits 1 MiB chunks on "\n" itself.
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { createGunzip } from 'node:zlib'
import type { Readable } from 'node:stream'

/** Called for each line (without its "\n"); may return a promise (output backpressure). */
export type LineHandler = (text: string, lineNo: number) => void | Promise<void>

export interface ReadResult {
  lines: number
  /** the file's last byte is "\n" (or the file is empty): its last line is complete */
  endsWithNewline: boolean
  gzip: boolean
}

export async function isGzip(file: string): Promise<boolean> {
  const fh = await open(file, 'r')
  try {
    const buf = Buffer.alloc(2)
    const { bytesRead } = await fh.read(buf, 0, 2, 0)
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b
  } finally {
    await fh.close()
  }
}

export async function openLines(file: string): Promise<{ stream: Readable; gzip: boolean }> {
  const gzip = await isGzip(file)
  const raw = createReadStream(file, { highWaterMark: 1 << 20 })
  if (!gzip) return { stream: raw, gzip }
  const gunzip = createGunzip({ chunkSize: 1 << 20 })
  raw.on('error', (err) => gunzip.destroy(err))
  return { stream: raw.pipe(gunzip), gzip }
}

export async function readLines(file: string, onLine: LineHandler): Promise<ReadResult> {
  const { stream, gzip } = await openLines(file)
  let rest: Buffer | undefined
  let lineNo = 0
  let lastByte = 10
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (chunk.length === 0) continue
    lastByte = chunk[chunk.length - 1]!
    const buf = rest === undefined ? chunk : Buffer.concat([rest, chunk])
    let start = 0
    let nl = buf.indexOf(10, start)
    while (nl !== -1) {
      const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl
      const w = onLine(buf.toString('utf8', start, end), ++lineNo)
      if (w !== undefined) await w
      start = nl + 1
      nl = buf.indexOf(10, start)
    }
    rest = start < buf.length ? buf.subarray(start) : undefined
  }
  if (rest !== undefined && rest.length > 0) {
    const w = onLine(rest.toString('utf8'), ++lineNo)
    if (w !== undefined) await w
  }
  return { lines: lineNo, endsWithNewline: lastByte === 10, gzip }
}
