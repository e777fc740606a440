// Reads an audit file as blocks of whole lines (about 1 MiB each), gzip-compressed or not, for
// verify and query: a block can be checked on another thread (block-pipeline.ts) without ever
// cutting a line in two. The line numbers are not counted here: the blocks come back in order with
// their line counts.
import { openLines } from './line-reader.js'

export interface BlockReadResult {
  /** the file's last byte is "\n" (or the file is empty): its last line is complete */
  endsWithNewline: boolean
  gzip: boolean
}

/**
 * Calls `onBlock` with each block of whole lines, in file order. The last block may end without
 * "\n" (a file cut in the middle of a line). `onBlock` may return a promise (backpressure).
 */
export async function readBlocks(
  file: string,
  onBlock: (block: Buffer) => void | Promise<void>,
): Promise<BlockReadResult> {
  const { stream, gzip } = await openLines(file)
  let rest: Buffer | undefined
  let lastByte = 10
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (chunk.length === 0) continue
    lastByte = chunk[chunk.length - 1]!
    // One copy per chunk at most (the piece of line left over from the chunk before), not per line.
    const buf = rest === undefined ? chunk : Buffer.concat([rest, chunk])
    const end = buf.lastIndexOf(10) + 1
    if (end === 0) {
      rest = buf
      continue
    }
    rest = end < buf.length ? buf.subarray(end) : undefined
    const w = onBlock(end < buf.length ? buf.subarray(0, end) : buf)
    if (w !== undefined) await w
  }
  if (rest !== undefined && rest.length > 0) {
    const w = onBlock(rest)
    if (w !== undefined) await w
  }
  return { endsWithNewline: lastByte === 10, gzip }
}

/**
 * Calls `onLine` with each line of a block (without its "\n", nor a "\r" before it) and its index
 * in the block; returns the number of lines.
 */
export function forEachLine(block: Uint8Array, onLine: (text: string, index: number) => void): number {
  const buf = asBuffer(block)
  let start = 0
  let index = 0
  const length = buf.length
  while (start < length) {
    let nl = buf.indexOf(10, start)
    if (nl === -1) nl = length
    const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl
    onLine(buf.toString('utf8', start, end), index++)
    start = nl + 1
  }
  return index
}

/** The lines of a block (as forEachLine counts them) without reading them. */
export function countLines(block: Uint8Array): number {
  const buf = asBuffer(block)
  let n = 0
  for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, nl + 1)) n++
  return buf.length > 0 && buf[buf.length - 1] !== 10 ? n + 1 : n
}

/** Calls `onLine` with each line of a block that contains `needle` (which has no "\n"), in order. */
export function forEachLineWith(block: Uint8Array, needle: Buffer, onLine: (text: string) => void): void {
  const buf = asBuffer(block)
  let from = 0
  for (let i = buf.indexOf(needle, from); i !== -1; i = buf.indexOf(needle, from)) {
    const start = buf.lastIndexOf(10, i) + 1
    let nl = buf.indexOf(10, i)
    if (nl === -1) nl = buf.length
    onLine(buf.toString('utf8', start, nl > start && buf[nl - 1] === 13 ? nl - 1 : nl))
    from = nl + 1
    if (from >= buf.length) break
  }
}

function asBuffer(block: Uint8Array): Buffer {
  return Buffer.isBuffer(block) ? block : Buffer.from(block.buffer, block.byteOffset, block.byteLength)
}

/** The first line of a block, as forEachLine gives it. */
export function firstLineOf(block: Buffer): string {
  let nl = block.indexOf(10)
  if (nl === -1) nl = block.length
  return block.toString('utf8', 0, nl > 0 && block[nl - 1] === 13 ? nl - 1 : nl)
}
