// Removes the rotated audit files that have outlived audit.retention, and audits each removal
// with what `audit verify` needs to accept the chain's missing head: the file's name, its line
// count and its last chained line (seq and mac), which the first file left names in its
// chain-start. Only rotated files (audit.log.1, audit.log.2.gz, audit.log-20261207...) are
// removed, oldest first, judged by the time of their first event: nothing kept is older than
// the retention. The live file is never touched (audit.rotatedEvery bounds its age).
import { readdir, stat, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { splitMac } from './chain.js'
import type { RetentionEvent } from './event-schema.js'
import { parseRetention, type RetentionPeriod, retentionCutoff } from './retention-period.js'
import { readLines } from './tools/line-reader.js'

export type RetentionRecord = Omit<RetentionEvent, 'v' | 'time'>

export interface RetentionOptions {
  /** the live audit file (audit.file) */
  file: string
  retention: RetentionPeriod
  now?: () => number
  /** writes the removal's event to the trail; awaited before the next file is removed */
  record: (event: RetentionRecord) => void | Promise<void>
}

interface FileFacts {
  path: string
  lines: number
  firstTime?: string | undefined
  lastTime?: string | undefined
  lastSeq?: number | undefined
  lastMac?: string | undefined
}

/** The live file's rotated copies, in its directory: its name followed by "." or "-" (never its lock). */
export async function rotatedFilesOf(file: string): Promise<string[]> {
  const dir = dirname(file)
  const name = basename(file)
  const names = await readdir(dir)
  const out: string[] = []
  for (const n of names) {
    if (n === name || n === `${name}.lock` || !(n.startsWith(`${name}.`) || n.startsWith(`${name}-`))) continue
    const path = join(dir, n)
    if ((await stat(path)).isFile()) out.push(path)
  }
  return out
}

async function factsOf(path: string): Promise<FileFacts> {
  const facts: FileFacts = { path, lines: 0 }
  let startTime: string | undefined
  await readLines(path, (text) => {
    facts.lines++
    const time = /"time":"([^"]+)"/.exec(text)?.[1]
    if (time !== undefined) {
      // The file is dated by its first event: a chain-start only marks where the file opened.
      if (text.includes('"event":"chain-start"')) startTime ??= time
      else facts.firstTime ??= time
      facts.lastTime = time
    }
    const split = splitMac(text)
    const seq = /^\{"log":"audit","seq":(\d+),/.exec(text)?.[1]
    if (split !== undefined && seq !== undefined) {
      facts.lastSeq = Number(seq)
      facts.lastMac = split.mac
    }
  })
  facts.firstTime ??= startTime
  return facts
}

/** Removes what has outlived the retention; returns the files removed. */
export async function applyAuditRetention(options: RetentionOptions): Promise<string[]> {
  const now = options.now ?? Date.now
  const cutoff = new Date(retentionCutoff(options.retention, now())).toISOString()
  const all = await Promise.all((await rotatedFilesOf(options.file)).map(factsOf))
  // A file that cannot be dated (empty, not audit lines) is left for a person to look at.
  const old = all
    .filter((f) => f.firstTime !== undefined && f.firstTime < cutoff)
    .sort((a, b) => (a.firstTime! < b.firstTime! ? -1 : 1))
  const removed: string[] = []
  for (const f of old) {
    await unlink(f.path)
    removed.push(f.path)
    const w = options.record({
      event: 'audit-retention',
      outcome: 'removed',
      file: basename(f.path),
      lines: f.lines,
      ...(f.lastSeq !== undefined && { lastSeq: f.lastSeq, lastMac: f.lastMac }),
      ...(f.firstTime !== undefined && { firstTime: f.firstTime }),
      ...(f.lastTime !== undefined && { lastTime: f.lastTime }),
      retention: options.retention.text,
    })
    if (w !== undefined) await w
  }
  return removed
}

const EVERY_HOUR = 3_600_000

/**
 * Runs the retention now, then every hour and whenever `poke` is called (SIGUSR2, after
 * logrotate), one run at a time. Failures go to `onError`: a file that cannot be removed is
 * tried again at the next run.
 */
export function scheduleAuditRetention(
  options: RetentionOptions & { onError: (err: Error) => void; everyMs?: number },
): { poke(): Promise<void>; stop(): void } {
  let running: Promise<void> = Promise.resolve()
  const poke = () => {
    running = running.then(() =>
      applyAuditRetention(options).then(
        () => {},
        (err: Error) => options.onError(err),
      ),
    )
    return running
  }
  const timer = setInterval(() => void poke(), options.everyMs ?? EVERY_HOUR)
  timer.unref()
  void poke()
  return { poke, stop: () => clearInterval(timer) }
}

/** The retention audit.* asks for, or undefined when it asks for none (no file or no retention). */
export function auditRetentionFor(
  settings: { file?: string | undefined; retention?: string | undefined },
  record: RetentionOptions['record'],
  onError: (err: Error) => void,
  now?: () => number,
): { poke(): Promise<void>; stop(): void } | undefined {
  if (settings.file === undefined || settings.retention === undefined) return undefined
  const retention = parseRetention(settings.retention)
  if (retention === undefined) return undefined
  return scheduleAuditRetention({ file: settings.file, retention, record, onError, ...(now !== undefined && { now }) })
}
