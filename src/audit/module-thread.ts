// Starts a worker thread on one of the gateway's own modules, whether the gateway runs compiled
// (dist/*.js) or from source (src/*.ts under tsx, or tap in the tests).
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'

/** The module `name` next to `moduleUrl` (a caller's import.meta.url), with the caller's extension. */
export function siblingModule(moduleUrl: string, name: string): URL {
  return new URL(`./${name}${extname(fileURLToPath(moduleUrl))}`, moduleUrl)
}

export function startModuleThread(script: URL, workerData: unknown): Worker {
  if (extname(fileURLToPath(script)) !== '.ts') return new Worker(script, { workerData })
  // From source the thread needs a TypeScript loader, and on Node 20 it does not get the process's:
  // it inherits `--import tsx` (execArgv), but tsx registers its hooks in the main thread only, and
  // Node 20 does not share a thread's hooks with the others, so loading the .ts script fails with
  // "Unknown file extension". The thread registers tsx itself, then loads the script. tsx is a
  // devDependency: resolved here, only when running from source, where it is installed. (Under tap,
  // whose ts-node loader the thread does inherit, tsx's hooks come first and load the .ts files.)
  const tsx = import.meta.resolve('tsx/esm/api')
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(script.href)}) })`
  return new Worker(bootstrap, { eval: true, workerData })
}
