// npm runs this after `npm install` / `npm ci` in a clone: it compiles src/ to dist/ (scripts/build.mjs),
// so that `npx psc-gateway ...` works at once (the package's bin is dist/cli.js). Without the dev
// dependencies (npm ci --omit=dev) there is no compiler: say so and leave dist/ as it is; the
// Docker build compiles in its own stage.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const compilers = ['typescript', 'esbuild'].map((name) => join(root, 'node_modules', name, 'package.json'))
if (!compilers.every((p) => existsSync(p))) {
  process.stderr.write(
    'psc-gateway: dev dependencies not installed, dist/ not rebuilt (run `npm install` then `npm run build`)\n',
  )
  process.exit(0)
}
const result = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit', cwd: root })
process.exit(result.status ?? 1)
