// Puts audit files given in any order (audit.log audit.log.2.gz audit.log.1) into chain order.
// Each opening of a file starts with a chain-start naming the last line written before it
// (`previous`), so the files link: B follows A when B's first line names A's last line. Files
// that do not link (lines cut at the end of one, a missing file in between) are placed by the
// time of their first line, which verify then reports as a break; files whose order cannot be
// told (no link, and their times overlap) are refused, naming them.
import { open } from 'node:fs/promises'
import { isGzip, readLines } from './line-reader.js'

interface Ends {
  file: string
  /** `previous.mac` of the file's first line when it is a chain-start */
  links?: string | undefined
  firstTime?: string | undefined
  lastTime?: string | undefined
  /** mac of its last chained line */
  lastMac?: string | undefined
}

export class FileOrderError extends Error {}

const EDGE_BYTES = 64 * 1024

export async function orderAuditFiles(files: string[]): Promise<string[]> {
  if (new Set(files).size !== files.length) throw new FileOrderError('a file is given twice')
  if (files.length < 2) return files
  const ends = await Promise.all(files.map(endsOf))
  const byLastMac = new Map<string, Ends>()
  for (const e of ends) if (e.lastMac !== undefined) byLastMac.set(e.lastMac, e)
  const next = new Map<Ends, Ends>()
  const hasPredecessor = new Set<Ends>()
  for (const e of ends) {
    const before = e.links === undefined ? undefined : byLastMac.get(e.links)
    if (before === undefined || before === e || next.has(before)) continue
    next.set(before, e)
    hasPredecessor.add(e)
  }
  // Runs of linked files, each from a file nothing links to.
  const runs: Ends[][] = []
  for (const e of ends) {
    if (hasPredecessor.has(e)) continue
    const run = [e]
    for (let n = next.get(e); n !== undefined && run.length <= ends.length; n = next.get(n)) run.push(n)
    runs.push(run)
  }
  const placed = runs.reduce((n, r) => n + r.length, 0)
  if (placed !== ends.length)
    throw new FileOrderError('these files link to each other in a loop: they cannot be put in chain order')
  const startOf = (r: Ends[]) => r[0]!.firstTime ?? ''
  const endOf = (r: Ends[]) => r[r.length - 1]!.lastTime ?? ''
  runs.sort((a, b) => (startOf(a) < startOf(b) ? -1 : startOf(a) > startOf(b) ? 1 : 0))
  for (let i = 1; i < runs.length; i++) {
    const a = runs[i - 1]!
    const b = runs[i]!
    if (startOf(b) === '' || startOf(a) === startOf(b) || endOf(a) > startOf(b)) {
      throw new FileOrderError(
        `cannot tell the order of ${a[a.length - 1]!.file} and ${b[0]!.file}: neither continues the other's chain and their times overlap. ` +
          'Check each file on its own, or give them oldest first with --keep-order',
      )
    }
  }
  return runs.flat().map((e) => e.file)
}

async function endsOf(file: string): Promise<Ends> {
  const ends: Ends = { file }
  const take = (text: string, first: boolean) => {
    if (!text.startsWith('{')) return
    const time = /"time":"([^"]+)"/.exec(text)?.[1]
    if (first) {
      ends.firstTime = time
      if (text.includes('"event":"chain-start"'))
        ends.links = /"previous":\{"seq":\d+,"mac":"([A-Za-z0-9_-]{43})"/.exec(text)?.[1]
    } else {
      ends.lastTime = time
      const mac = /,"mac":"([A-Za-z0-9_-]{43})"\}$/.exec(text)?.[1]
      if (mac !== undefined) ends.lastMac = mac
    }
  }
  if (await isGzip(file)) {
    // A compressed file is read whole: its end is only known at the end.
    let first = true
    let last = ''
    await readLines(file, (text) => {
      if (first && text.startsWith('{')) {
        take(text, true)
        first = false
      }
      if (text.endsWith('"}')) last = text
    })
    take(last, false)
    return ends
  }
  const fh = await open(file, 'r')
  try {
    const { size } = await fh.stat()
    const head = Buffer.alloc(Math.min(EDGE_BYTES, size))
    await fh.read(head, 0, head.length, 0)
    const firstLine = head
      .toString('utf8')
      .split('\n')
      .find((l) => l.startsWith('{'))
    if (firstLine !== undefined) take(firstLine, true)
    const tail = Buffer.alloc(Math.min(EDGE_BYTES, size))
    await fh.read(tail, 0, tail.length, size - tail.length)
    const lines = tail.toString('utf8').split('\n')
    // The first piece of the tail may be a line cut by the window: only whole lines count.
    for (let i = lines.length - 1; i >= (tail.length < size ? 1 : 0); i--) {
      const l = lines[i]!.replace(/\r$/, '')
      if (l.endsWith('"}')) {
        take(l, false)
        break
      }
    }
  } finally {
    await fh.close()
  }
  return ends
}
