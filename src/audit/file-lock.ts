// One writer per audit file: `<file>.lock`, created with O_EXCL, names the process that writes the
// file (pid, host, start). A second gateway started on the same file by mistake is refused before it
// writes anything; otherwise both would append to the file and each would read the other's lines as
// removed ones. Node has no flock(2), and a lock file also says who holds it.
// A lock left behind is taken over when its holder is gone: the pid is dead on this host, or it is
// our own pid (a container restarted: pid 1 again), or it was released with a record of unwritten
// events, or, held from another host (a shared volume), it has not been refreshed for STALE_AFTER_MS
// (the holder touches it every REFRESH_MS).
// The file is written once at its full size (padded): rewriting it in place at shutdown, to leave the
// count of events that could not be written (the next start writes their gap into the chain), then
// needs no new block on a disk that is full, which is the usual reason they could not be written.
import { closeSync, futimesSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { hostname } from 'node:os'

export const LOCK_SIZE = 1024
const REFRESH_MS = 10_000
export const STALE_AFTER_MS = 60_000

/** Events a previous process could not write before it stopped (from its lock file). */
export interface UnwrittenRecord {
  lost: number
  from: string
  to: string
  /** the output's last error, when it had one */
  error?: string | undefined
}

interface LockContent {
  pid: number
  host: string
  started: string
  released?: boolean
  unwritten?: UnwrittenRecord
}

export class AuditFileLocked extends Error {}

/** Locks held by this process: its own pid in a lock file is a previous life only if not in here. */
const heldHere = new Set<string>()

export interface AuditFileLock {
  readonly path: string
  /** what the previous writer left unwritten (its lock file said so); to be written as a gap */
  readonly carried: UnwrittenRecord | undefined
  /** removes the lock (nothing lost) */
  release(): void
  /** keeps the lock file, marked released, with what could not be written */
  releaseWithUnwritten(record: UnwrittenRecord): void
  /** the record carried from the previous writer is in the chain now: forget it */
  carriedWritten(): void
}

function contentText(c: LockContent): Buffer {
  const text = JSON.stringify(c)
  const buf = Buffer.alloc(Math.max(LOCK_SIZE, Buffer.byteLength(text) + 1), 0x20)
  buf.write(text, 0, 'utf8')
  buf[buf.length - 1] = 10
  return buf
}

function readLock(
  path: string,
): { path: string; content: LockContent | undefined; text: string; mtimeMs: number } | undefined {
  try {
    const text = readFileSync(path, 'utf8')
    const mtimeMs = statSync(path).mtimeMs
    let content: LockContent | undefined
    try {
      content = JSON.parse(text.trim()) as LockContent
    } catch {
      /* half written: judged by its age */
    }
    return { path, content, text, mtimeMs }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists, under another user
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Why the lock left behind can be taken over, or undefined when its holder may still be writing. */
function staleBecause(lock: NonNullable<ReturnType<typeof readLock>>, now: number): string | undefined {
  const c = lock.content
  if (c === undefined || typeof c.pid !== 'number')
    return now - lock.mtimeMs > STALE_AFTER_MS ? 'unreadable and old' : undefined
  if (c.released === true) return 'released'
  if (c.host === hostname()) {
    if (c.pid === process.pid) return heldHere.has(lock.path) ? undefined : 'our own pid (a restart)'
    if (!alive(c.pid)) return `process ${c.pid} is gone`
    return undefined
  }
  return now - lock.mtimeMs > STALE_AFTER_MS
    ? `not refreshed for ${Math.round((now - lock.mtimeMs) / 1000)} s`
    : undefined
}

function refusal(file: string, lockPath: string, c: LockContent | undefined): AuditFileLocked {
  const who =
    c === undefined ? 'un autre processus' : `le processus ${c.pid}${c.host !== hostname() ? ` sur ${c.host}` : ''}`
  const whoEn = c === undefined ? 'another process' : `process ${c.pid}${c.host !== hostname() ? ` on ${c.host}` : ''}`
  return new AuditFileLocked(
    `le fichier d'audit ${file} est déjà écrit par ${who} (verrou ${lockPath}) : une seule passerelle peut écrire un fichier d'audit. ` +
      `Arrêtez l'autre passerelle, ou donnez à celle-ci un autre audit.file ; rien n'a été écrit. ` +
      `/ the audit file ${file} is already written by ${whoEn} (lock ${lockPath}): one gateway per audit file. ` +
      'Stop the other gateway, or give this one another audit.file; nothing was written.',
  )
}

/** Takes the lock of `file` or throws AuditFileLocked naming the holder; call before opening the file. */
export function lockAuditFile(file: string): AuditFileLock {
  const path = `${file}.lock`
  const mine: LockContent = { pid: process.pid, host: hostname(), started: new Date().toISOString() }
  let carried: UnwrittenRecord | undefined
  let fd: number | undefined
  for (let attempt = 0; fd === undefined; attempt++) {
    try {
      fd = openSync(path, 'wx', 0o640)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const held = readLock(path)
      if (held === undefined) continue
      const stale = staleBecause(held, Date.now())
      if (stale === undefined || attempt > 3) throw refusal(file, path, held.content)
      // Taken over only if it is still the lock judged stale (another starter may have been faster).
      const again = readLock(path)
      if (again === undefined || again.text !== held.text) continue
      carried ??= held.content?.unwritten
      unlinkSync(path)
    }
  }
  if (carried !== undefined) mine.unwritten = carried
  writeSync(fd, contentText(mine), 0, undefined, 0)
  heldHere.add(path)
  const lockFd = fd
  const refresh = setInterval(() => {
    try {
      futimesSync(lockFd, new Date(), new Date())
    } catch {
      /* the next refresh tries again */
    }
  }, REFRESH_MS)
  refresh.unref()
  let held = true
  const rewrite = (c: LockContent) => {
    const buf = contentText(c)
    writeSync(lockFd, buf, 0, buf.length, 0)
  }
  const end = () => {
    if (!held) return false
    held = false
    heldHere.delete(path)
    clearInterval(refresh)
    return true
  }
  return {
    path,
    get carried() {
      return mine.unwritten
    },
    release() {
      if (!end()) return
      // A record still carried (not yet in the chain) stays for the next start.
      if (mine.unwritten !== undefined) writeReleased(mine.unwritten)
      else
        try {
          unlinkSync(path)
        } catch {
          /* removed by hand */
        }
      closeSync(lockFd)
    },
    releaseWithUnwritten(record) {
      if (!end()) return
      writeReleased(record)
      closeSync(lockFd)
    },
    carriedWritten() {
      if (mine.unwritten === undefined) return
      delete mine.unwritten
      if (held)
        try {
          rewrite(mine)
        } catch {
          /* the record is written twice at worst: the next start sees it */
        }
    },
  }
  function writeReleased(record: UnwrittenRecord) {
    const c: LockContent = { ...mine, released: true, unwritten: record }
    try {
      rewrite(c)
    } catch (err) {
      process.stderr.write(
        `psc-gateway audit: could not leave the count of unwritten events in ${path}: ${(err as Error).message}\n`,
      )
    }
  }
}
