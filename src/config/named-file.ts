// A file the configuration names (charter.file, branding.logo): placed relative to the
// configuration file, read once at start-up with a size limit, so that `check` and the start refuse
// a missing, unreadable or oversized file with its key.
import { readFileSync, statSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'

/** Where a path written in the configuration file points: relative paths from that file's folder. */
export function placeFile(path: string, configFile: string | undefined): string {
  if (isAbsolute(path)) return path
  const base = configFile === undefined || configFile.startsWith('<') ? process.cwd() : dirname(configFile)
  return resolve(base, path)
}

/** The file's bytes, or a sentence saying why it cannot be used (never its content). */
export function readNamedFile(path: string, maxBytes: number): { bytes: Buffer } | { problem: string } {
  try {
    const stat = statSync(path)
    if (!stat.isFile()) return { problem: `${path} is not a file` }
    if (stat.size > maxBytes) return { problem: `${path} is ${stat.size} bytes; at most ${maxBytes} are accepted` }
    return { bytes: readFileSync(path) }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return { problem: `${path} does not exist` }
    if (code === 'EACCES') return { problem: `${path} cannot be read (permission denied)` }
    return { problem: `${path} cannot be read (${code ?? 'error'})` }
  }
}
