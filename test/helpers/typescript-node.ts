// The node flags that start a TypeScript entry point (src/cli.ts, a helper script) in a child process
// the way tap starts the test processes (package.json "tap.node-arg"): Node's own TypeScript support
// and typescript.mjs, with an absolute path so that any working directory will do.
import { join } from 'node:path'

export const TYPESCRIPT_NODE_ARGS = [
  '--experimental-transform-types',
  '--disable-warning=ExperimentalWarning',
  '--import',
  join(import.meta.dirname, 'typescript.mjs'),
]
