// What is done to each block of lines of `audit verify` / `audit query` (the per-line work: rows,
// HMACs), on whichever thread runs it. A task is plain data, so it can be sent to a worker thread.
import { checkBlock, KeyRing, type BlockCheck } from './line-check.js'
import { forEachLine } from './line-blocks.js'
import { rowMaker, type QueryFilters, type QueryFormat } from './query-rows.js'

export interface BlockTask {
  /** check each line's mac (verify, query --verify) with these keys; the seq of --expect-head */
  chain?: { keys: Uint8Array[]; expectSeq?: number | undefined } | undefined
  /** make the rows of the lines that match (query) */
  rows?: { filters: QueryFilters; format: QueryFormat } | undefined
}

export interface BlockResult {
  lines: number
  check?: BlockCheck | undefined
  /** the block's output rows, and how many */
  rows?: { text: string; matched: number } | undefined
}

/** Runs a task on blocks; made once per thread (keys and filters prepared once). */
export function blockRunner (task: BlockTask): (block: Uint8Array) => BlockResult {
  const keys = task.chain === undefined ? undefined : new KeyRing(task.chain.keys.map((k) => Buffer.from(k)))
  const expectSeq = task.chain?.expectSeq
  const makeRow = task.rows === undefined ? undefined : rowMaker(task.rows.filters, task.rows.format)
  return (block) => {
    const check = keys === undefined ? undefined : checkBlock(block, keys, expectSeq)
    if (makeRow === undefined) return { lines: check?.lines ?? forEachLine(block, () => {}), check }
    let text = ''
    let matched = 0
    const lines = forEachLine(block, (line) => {
      const row = makeRow(line)
      if (row !== undefined) {
        text += row
        matched++
      }
    })
    return { lines, check, rows: { text, matched } }
  }
}
