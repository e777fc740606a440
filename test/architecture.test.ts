// The house's rules of direction (docs/architecture.md), checked on the real import graph of src/:
// pure rooms import no framework and do no I/O, the product (src/) never imports dev/ (the emulator, the demo),
// the graph of files has no cycle, and the layout holds: one name per file, every command in cli/, no file over 350 lines.
import t from 'tap'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const SRC = resolve(import.meta.dirname, '../src')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : []
  })
}

const IMPORT =
  /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm

/** file (relative to src) → the relative imports it makes; `import type` ones are not loaded at run time and are kept apart. */
interface Imports {
  local: string[]
  types: string[]
  packages: string[]
  dynamic: string[]
}
function importGraph(): Map<string, Imports> {
  const graph = new Map<string, Imports>()
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8')
    const entry = { local: [] as string[], types: [] as string[], packages: [] as string[], dynamic: [] as string[] }
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3]!
      if (spec.startsWith('.')) {
        const target = relative(SRC, resolve(dirname(file), spec.replace(/\.js$/, '.ts')))
        if (m[3] !== undefined) entry.dynamic.push(target)
        else if (/^\s*(?:import|export)\s+type\s/.test(m[0])) entry.types.push(target)
        else entry.local.push(target)
      } else entry.packages.push(spec)
    }
    graph.set(relative(SRC, file), entry)
  }
  return graph
}

const graph = importGraph()
const room = (file: string) => (file.includes('/') ? file.slice(0, file.indexOf('/')) : file)

t.test('pure rooms (psc/, policy/) import no framework and no node: I/O module', async (t) => {
  for (const [file, { packages, local, types }] of graph) {
    if (room(file) !== 'psc' && room(file) !== 'policy') continue
    t.same(
      packages.filter(
        (p) =>
          p.startsWith('fastify') ||
          p.startsWith('@fastify') ||
          p === 'node:fs' ||
          p === 'node:http' ||
          p === 'node:net' ||
          p === 'ioredis',
      ),
      [],
      `${file} imports no framework or I/O`,
    )
    t.same(
      [...local, ...types].filter((l) => !['psc', 'policy', 'config', 'errors.ts'].includes(room(l))),
      [],
      `${file} imports only psc/, policy/, config/ types and errors.ts`,
    )
  }
})

t.test('errors.ts imports nothing of ours', async (t) => {
  t.same(graph.get('errors.ts')?.local, [])
  t.same(graph.get('errors.ts')?.types, [])
})

t.test('nothing under src/ imports dev/ (the PSC emulator, the demo application, their commands)', async (t) => {
  const DEV = resolve(SRC, '../dev')
  for (const [file, { local, types, dynamic }] of graph) {
    t.same(
      [...local, ...types, ...dynamic].filter((l) => resolve(SRC, l).startsWith(`${DEV}/`)),
      [],
      `${file}: no import of dev/`,
    )
  }
  // nor by a path computed at run time: no src file names dev/ or the emulator's dependency
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8')
    t.notMatch(text, /['"`](?:\.\.\/)+dev\//, `${relative(SRC, file)} does not name dev/`)
    t.notMatch(text, /['"]oidc-provider['"]/, `${relative(SRC, file)} does not name oidc-provider`)
  }
  t.notOk(
    existsSync(join(SRC, 'emulator')) || existsSync(join(SRC, 'demo')),
    'the emulator and the demo are not in src/',
  )
})

t.test('server/ holds the parts of the composition root: only gateway.ts and server/ import it', async (t) => {
  for (const [file, { local, types, dynamic }] of graph) {
    if (file === 'gateway.ts' || room(file) === 'server') continue
    t.same(
      [...local, ...types, ...dynamic].filter((l) => room(l) === 'server'),
      [],
      `${file} does not import server/`,
    )
  }
  // the error outcome is pure, so that it is tested without fastify
  t.same(graph.get('server/error-outcome.ts')?.packages, [], 'server/error-outcome.ts imports no package')
})

t.test('the import graph of src/ (what is loaded at run time) has no cycle', async (t) => {
  const state = new Map<string, 'visiting' | 'done'>()
  const cycles: string[] = []
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === 'done') return
    if (state.get(file) === 'visiting') {
      cycles.push([...path.slice(path.indexOf(file)), file].join(' → '))
      return
    }
    state.set(file, 'visiting')
    for (const next of graph.get(file)?.local ?? []) if (graph.has(next)) visit(next, [...path, file])
    state.set(file, 'done')
  }
  for (const file of graph.keys()) visit(file, [])
  t.same(cycles, [], 'no import cycle')
})

t.test('no two files under src/ and dev/ share a name (a name says what a file is for)', async (t) => {
  // The two entry points are named for what they run: the product's command line and the development one.
  const ENTRY_POINTS = new Set(['src/cli.ts', 'dev/cli.ts'])
  const ROOT = resolve(SRC, '..')
  const byName = new Map<string, string[]>()
  for (const file of [...sourceFiles(SRC), ...sourceFiles(join(ROOT, 'dev'))]) {
    const path = relative(ROOT, file)
    if (ENTRY_POINTS.has(path)) continue
    const name = path.slice(path.lastIndexOf('/') + 1)
    byName.set(name, [...(byName.get(name) ?? []), path])
  }
  t.same(
    [...byName.values()].filter((paths) => paths.length > 1),
    [],
    'every file name is used once',
  )
})

t.test('the OpenID Connect side lives in oidc/ and endpoints/: src/auth/ does not come back', async (t) => {
  t.notOk(existsSync(join(SRC, 'auth')), 'no src/auth/')
})

t.test('every command of the command line is defined in cli/', async (t) => {
  for (const [file, { local, types, dynamic }] of graph) {
    if (file === 'cli.ts' || room(file) === 'cli') continue
    t.notOk(
      [...local, ...types, ...dynamic].includes('cli/command.ts'),
      `${file} does not use the Command type of cli/command.ts`,
    )
  }
})

t.test('every file under src/ and dev/ starts with a comment that says what it is for', async (t) => {
  const ROOT = resolve(SRC, '..')
  for (const file of [...sourceFiles(SRC), ...sourceFiles(join(ROOT, 'dev'))]) {
    const lines = readFileSync(file, 'utf8').split('\n')
    const first = lines[0]!.startsWith('#!') ? lines[1]! : lines[0]!
    t.match(first, /^\/\/ \S/, `${relative(ROOT, file)} starts with a one-line comment`)
  }
})

t.test('no file under src/ or dev/ is over 350 lines: small files, one concern each', async (t) => {
  const MAX_LINES = 350
  const ROOT = resolve(SRC, '..')
  const long = [...sourceFiles(SRC), ...sourceFiles(join(ROOT, 'dev'))]
    .map((file) => ({ file: relative(ROOT, file), lines: readFileSync(file, 'utf8').split('\n').length - 1 }))
    .filter(({ lines }) => lines > MAX_LINES)
    .map(({ file, lines }) => `${file}: ${lines} lines`)
  t.same(long, [], `every file has at most ${MAX_LINES} lines (split a longer one by concern)`)
})
