// The offline bundle (`npm run bundle`) built once per tap run for the tests that need it
// (test/production/bundle.test.ts, test/docs/vm.test.ts): the build costs about two CPU-minutes,
// and both tests read the same archive. The build is keyed by its inputs' content, the Node
// version and the tap run (the runner's pid, so that a later run builds again with whatever npm
// and the registry give then); a lock directory lets one test build while the other waits.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { processAlive } from './ports.js'
import { until } from './until.js'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '..', '..')
const CACHE = join(ROOT, '.cache', 'shared-bundle')

/** What scripts/bundle.mjs reads: the build's sources and config, the lock file, what it copies. */
const INPUTS = [
  'src',
  'scripts/build.mjs',
  'scripts/bundle.mjs',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'deploy',
  'config/psc-gateway.schema.json',
  'docs/vm.md',
]

function filesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path]
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((e) => filesUnder(join(path, e.name)))
}

function inputsKey(): string {
  const hash = createHash('sha256')
  hash.update(`${process.version}\n${process.ppid}\n`)
  for (const input of INPUTS)
    for (const file of filesUnder(join(ROOT, input))) {
      hash.update(`${relative(ROOT, file)}\n`)
      hash.update(readFileSync(file))
    }
  return hash.digest('hex').slice(0, 24)
}

/** true when the lock's holder is gone (a test killed while building) */
function stale(lock: string): boolean {
  let pid: number
  try {
    pid = Number(readFileSync(join(lock, 'pid'), 'utf8'))
  } catch {
    return false // released meanwhile
  }
  return !processAlive(pid)
}

/** The lock is a folder holding its holder's pid, put in place whole by one rename. */
function tryLock(lock: string): boolean {
  const mine = `${lock}.${process.pid}`
  mkdirSync(mine, { recursive: true })
  writeFileSync(join(mine, 'pid'), String(process.pid))
  try {
    renameSync(mine, lock)
    return true
  } catch (err) {
    rmSync(mine, { recursive: true, force: true })
    if (!['EEXIST', 'ENOTEMPTY'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err
    if (stale(lock)) rmSync(lock, { recursive: true, force: true })
    return false
  }
}

export interface SharedBundle {
  /** what `npm run --silent bundle -- --out DIR` printed (the archive's path last) */
  stdout: string
  /** the archive, in the shared folder: read it, copy it, never change it */
  archive: string
}

/** The bundle of the current sources, built by `npm run bundle` once per tap run. */
export async function sharedBundle(timeoutMs: number): Promise<SharedBundle> {
  const key = inputsKey()
  const out = join(CACHE, key)
  const done = join(CACHE, `${key}.stdout`)
  const lock = join(CACHE, `${key}.lock`)
  mkdirSync(CACHE, { recursive: true })
  const read = (): SharedBundle => {
    const stdout = readFileSync(done, 'utf8')
    return { stdout, archive: stdout.trim().split('\n').at(-1)! }
  }
  if (existsSync(done)) return read()
  await until(
    'the bundle lock (another test is building the bundle)',
    async () => existsSync(done) || tryLock(lock),
    timeoutMs,
    250,
  )
  try {
    if (existsSync(done)) return read()
    // one bundle kept: the earlier runs' go
    for (const name of readdirSync(CACHE))
      if (!name.startsWith(key) && !name.includes('.lock')) rmSync(join(CACHE, name), { recursive: true, force: true })
    rmSync(out, { recursive: true, force: true })
    const { stdout } = await run('npm', ['run', '--silent', 'bundle', '--', '--out', out], {
      cwd: ROOT,
      maxBuffer: 64 * 1024 * 1024,
    })
    writeFileSync(`${done}.tmp`, stdout)
    renameSync(`${done}.tmp`, done)
    return read()
  } finally {
    if (existsSync(lock) && readFileSync(join(lock, 'pid'), 'utf8') === String(process.pid))
      rmSync(lock, { recursive: true, force: true })
  }
}
