// `npm run build [-- --outDir DIR]`: compiles the product's TypeScript (the files tsconfig.build.json
// names: src/, the product; dev/ holds the emulator and the demo) to JavaScript in dist/, one file per source file.
//
// Why esbuild and not tsc: tsc type-checks the whole program before it writes a byte (20 CPU-seconds
// on a 2-core machine, paid by every `npm install` of a clone through `prepare`, every image build
// and the tests that rehearse both), while `npm test` already runs the type check (`npm run
// typecheck`) and the image build runs it too. esbuild (a dependency of tsx, which runs the tests on
// exactly this transform) strips the types in well under a second. tsconfig.json keeps
// `isolatedModules`-safe code: nothing here needs type information to compile.
import { rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { build } from 'esbuild'
import ts from 'typescript'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const { values } = parseArgs({ options: { outDir: { type: 'string' } } })

const configFile = join(root, 'tsconfig.build.json')
const read = ts.readConfigFile(configFile, ts.sys.readFile)
if (read.error !== undefined) fail(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'))
const config = ts.parseJsonConfigFileContent(read.config, ts.sys, root, undefined, configFile)
if (config.errors.length > 0)
  fail(config.errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n'))

const outdir = values.outDir ?? config.options.outDir ?? join(root, 'dist')
const entryPoints = config.fileNames.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
rmSync(outdir, { recursive: true, force: true })
await build({
  entryPoints,
  outdir,
  outbase: config.options.rootDir ?? join(root, 'src'),
  bundle: false,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: config.options.sourceMap === true,
  logLevel: 'warning',
})

function fail(message) {
  process.stderr.write(`build: ${configFile}: ${message}\n`)
  process.exit(1)
}
