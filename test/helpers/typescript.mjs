// Loaded first (--import) in every test process and in every TypeScript child process a test starts:
// the sources run on Node's own TypeScript support (--experimental-transform-types), without a
// transpiler hook. Two things are added: imports written './x.js' (as tsc wants them) load './x.ts',
// and Node's compile cache keeps each file's transformed, compiled code across processes.
import { enableCompileCache, registerHooks } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

enableCompileCache(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.cache', 'node-compile'))

registerHooks({
  resolve (specifier, context, nextResolve) {
    // only relative imports from TypeScript files; anything else resolves as Node resolves it
    if (specifier.endsWith('.js') && (specifier.startsWith('./') || specifier.startsWith('../')) && context.parentURL?.endsWith('.ts')) {
      try {
        return nextResolve(`${specifier.slice(0, -3)}.ts`, context)
      } catch {}
    }
    return nextResolve(specifier, context)
  }
})
