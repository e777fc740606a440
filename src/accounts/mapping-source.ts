// Local accounts from the mapping file. Looked up at login only: a stat tells whether the file
// changed since it was read (an edit, a ConfigMap update that swaps a symlink), and it is parsed
// again then. A file that no longer parses is reported (log, readiness) and the previous mapping
// stays in force: an edit with a typo must not close every account.
import { readFileSync, statSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import type { AccountLookup, Identity } from '../psc/identity.js'
import { parseMapping, type MappedAccount, type MappingProblem } from './mapping-file.js'
import type { AccountSource, SourceHealth } from './source.js'

export class MappingFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: MappingProblem[],
  ) {
    super(problems.map((p) => `${file}:${p.line}: ${p.message}`).join('\n'))
    this.name = 'MappingFileError'
  }
}

interface Version {
  mtimeMs: number
  size: number
  ino: number
}

/** Reads and parses the file; throws MappingFileError naming each bad line. */
export function loadMappingFileSync(file: string): ReadonlyMap<string, MappedAccount> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new MappingFileError(file, [
      { line: 0, message: `cannot read the mapping file (${(err as NodeJS.ErrnoException).code ?? 'error'})` },
    ])
  }
  const parsed = parseMapping(file, text)
  if (parsed.problems.length > 0) throw new MappingFileError(file, parsed.problems)
  return parsed.byKey
}

export function accountFromMapping(
  byKey: ReadonlyMap<string, MappedAccount>,
  identity: Identity,
): MappedAccount | undefined {
  return (
    byKey.get(`idNat:${identity.idNat}`) ??
    (identity.rpps !== undefined ? byKey.get(`rpps:${identity.rpps}`) : undefined)
  )
}

export class MappingFileSource implements AccountSource {
  readonly kind = 'file'
  #byKey: ReadonlyMap<string, MappedAccount>
  #version: Version | undefined
  #problem: string | undefined
  #checking: Promise<void> | undefined

  constructor(
    readonly file: string,
    private readonly now: () => number,
    private readonly onProblem: (message: string) => void = () => {},
  ) {
    const s = statSync(file, { throwIfNoEntry: false })
    this.#byKey = loadMappingFileSync(file)
    if (s !== undefined) this.#version = { mtimeMs: s.mtimeMs, size: s.size, ino: s.ino }
  }

  async lookup(identity: Identity): Promise<AccountLookup> {
    this.#checking ??= this.#reloadIfChanged().finally(() => {
      this.#checking = undefined
    })
    await this.#checking
    const found = accountFromMapping(this.#byKey, identity)
    const checkedAt = this.now()
    return found === undefined
      ? { status: 'none', checkedAt }
      : { status: 'found', ...found, groups: [...found.groups], checkedAt }
  }

  async #reloadIfChanged(): Promise<void> {
    let v: Version
    try {
      const s = await stat(this.file)
      v = { mtimeMs: s.mtimeMs, size: s.size, ino: s.ino }
    } catch (err) {
      this.#report(
        `cannot read ${this.file} (${(err as NodeJS.ErrnoException).code ?? 'error'}); the previous mapping stays in force`,
      )
      return
    }
    const before = this.#version
    if (before !== undefined && before.mtimeMs === v.mtimeMs && before.size === v.size && before.ino === v.ino) return
    this.#version = v
    try {
      const parsed = parseMapping(this.file, await readFile(this.file, 'utf8'))
      if (parsed.problems.length > 0) {
        this.#report(
          `${new MappingFileError(this.file, parsed.problems).message}\n(the previous mapping stays in force)`,
        )
        return
      }
      this.#byKey = parsed.byKey
      this.#problem = undefined
    } catch (err) {
      this.#report(
        `cannot read ${this.file} (${(err as NodeJS.ErrnoException).code ?? 'error'}); the previous mapping stays in force`,
      )
    }
  }

  #report(message: string): void {
    this.#problem = message
    this.onProblem(message)
  }

  /** Ready even after a broken edit: the previous mapping serves every login; the reason says what is wrong. */
  health(): SourceHealth {
    return this.#problem === undefined
      ? { ok: true, reason: `mapping file ${this.file}: ${this.#byKey.size} entries` }
      : {
          ok: true,
          reason: `mapping file ${this.file}: ${this.#byKey.size} entries in force; the file on disk is not used: ${this.#problem}`,
        }
  }

  async close(): Promise<void> {}
}
