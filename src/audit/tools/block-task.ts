// What is done to each block of lines of `audit verify` / `audit query` (the per-line work: rows,
// HMACs), on whichever thread runs it. A task is plain data, so it can be sent to a worker thread.
import { checkBlock, type BlockCheck } from './block-check.js'
import { KeyRing } from './line-check.js'
import { countLines, forEachLine, forEachLineWith } from './line-blocks.js'
import { needlesOf, rowMaker, type QueryFilters, type QueryFormat } from './query-rows.js'

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

/**
 * Whether the task costs little per line, so that worker threads would cost more than they save:
 * a query with a filter on a field, whose lines are found by searching the block's bytes.
 */
export function isCheapPerLine(task: BlockTask): boolean {
  return task.chain === undefined && task.rows !== undefined && needlesOf(task.rows.filters).length > 0
}

/** Runs a task on blocks; made once per thread (keys and filters prepared once). */
export function blockRunner(task: BlockTask): (block: Uint8Array) => BlockResult {
  const keys = task.chain === undefined ? undefined : new KeyRing(task.chain.keys.map((k) => Buffer.from(k)))
  const expectSeq = task.chain?.expectSeq
  const makeRow = task.rows === undefined ? undefined : rowMaker(task.rows.filters, task.rows.format)
  // A line that matches contains each needle: only the lines around one of them are looked at (a
  // search through the block's bytes instead of a string and a check per line).
  const needle = task.rows === undefined ? undefined : needlesOf(task.rows.filters)[0]
  const needleBytes = needle === undefined ? undefined : Buffer.from(needle)
  return (block) => {
    const check = keys === undefined ? undefined : checkBlock(block, keys, expectSeq)
    if (makeRow === undefined) return { lines: check?.lines ?? countLines(block), check }
    let text = ''
    let matched = 0
    const onLine = (line: string) => {
      const row = makeRow(line)
      if (row !== undefined) {
        text += row
        matched++
      }
    }
    let lines: number
    if (needleBytes !== undefined) {
      forEachLineWith(block, needleBytes, onLine)
      lines = check?.lines ?? countLines(block)
    } else {
      lines = forEachLine(block, onLine)
    }
    return { lines, check, rows: { text, matched } }
  }
}
