// The audit section's resolution and the deployment checks asked of `check` (and of every
// start): an audit file the gateway could not write, an http publicUrl facing production PSC,
// profession codes PSC never sends. Found at load time, with the key, so `check` prints them and
// `serve` refuses to start instead of dying on the first write.
import { accessSync, constants, readFileSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { PROFESSIONS } from '../psc/professions.js'
import type { RawConfig } from './schema.js'

type Report = (path: string[], message: string) => void

export const DEFAULT_SYSLOG_PORTS = { tls: 6514, tcp: 514, udp: 514, relp: 2514 } as const

/** The audit section's checks beyond the schema: a file the gateway can write, syslog files readable. */
export function checkAuditSettings(raw: RawConfig, err: Report): void {
  const a = raw.audit
  if (a.file !== undefined) checkWritableFile(a.file, (m) => err(['audit', 'file'], m))
  const y = a.syslog
  if (y === undefined) return
  for (const key of ['caFile', 'certFile', 'keyFile'] as const) {
    const file = y[key]
    if (file === undefined) continue
    if (y.transport !== 'tls') {
      err(['audit', 'syslog', key], `${key} applies to transport tls only`)
      continue
    }
    try {
      readFileSync(file, 'utf8')
    } catch (e) {
      err(['audit', 'syslog', key], `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
    }
  }
  if ((y.certFile === undefined) !== (y.keyFile === undefined))
    err(['audit', 'syslog', y.certFile === undefined ? 'keyFile' : 'certFile'], 'certFile and keyFile go together')
}

/** The gateway appends to `file`: its directory must exist, and the file (or the directory, to create it) be writable. */
function checkWritableFile(file: string, report: (message: string) => void): void {
  const dir = dirname(file)
  let isDir: boolean
  try {
    isDir = statSync(dir).isDirectory()
  } catch (e) {
    return report(
      `the directory ${dir} does not exist (${(e as NodeJS.ErrnoException).code ?? 'error'}); create it, writable by the gateway's user`,
    )
  }
  if (!isDir) return report(`${dir} is not a directory`)
  let exists = true
  try {
    if (statSync(file).isDirectory()) return report(`${file} is a directory, not a file`)
  } catch {
    exists = false
  }
  try {
    accessSync(exists ? file : dir, constants.W_OK)
  } catch {
    report(
      exists
        ? `${file} is not writable by this user`
        : `the directory ${dir} is not writable by this user: the audit file cannot be created`,
    )
  }
}

/** Rules of a real deployment that the schema alone cannot say. */
export function checkDeployment(raw: RawConfig, err: Report): void {
  if (raw.publicUrl.startsWith('http:') && raw.psc.environment === 'production') {
    err(
      ['publicUrl'],
      'publicUrl is http:// with psc.environment production: session cookies would travel in clear; use https://',
    )
  }
  if (raw.psc.allowUnknownProfessions) return
  raw.routes.forEach((route, i) => {
    const access = route.access
    if (typeof access !== 'object' || access.professions === undefined) return
    access.professions.forEach((code, j) => {
      if (PROFESSIONS[code] === undefined) {
        err(
          ['routes', String(i), 'access', 'professions', String(j)],
          `"${code}" is not a TRE_G15 profession code (e.g. "10" médecin, "21" pharmacien); PSC never sends it, so this condition can never hold. ` +
            'Set psc.allowUnknownProfessions: true if ANS added it after this release',
        )
      }
    })
  })
}
