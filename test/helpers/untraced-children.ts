// Loaded in every test process (tap's node-arg). tap's process tracking (@tapjs/processinfo) adds
// itself to NODE_OPTIONS for every child process a test starts, whatever env the test passes: each
// gateway, CLI and npm child then loads a module hook that only coverage uses (coverage is off).
// On Node 20 that hook runs off-thread and costs about a second of CPU per child, and the suite
// starts hundreds of them. This removes it from the children's NODE_OPTIONS; the test processes
// themselves keep it (tap needs it there).
import { createRequire } from 'node:module'

interface SpawnOptions {
  env: Record<string, string | undefined>
}
interface ProcessOnSpawn {
  addListener(listener: (options: SpawnOptions) => void): void
}

const TAP_HOOK = /(^|\s)"?--(?:import|loader|experimental-loader)=[^\s"]*@tapjs[/\\]processinfo[^\s"]*"?/g

function loadProcessOnSpawn(): ProcessOnSpawn | undefined {
  try {
    // The same instance tap registered with: its state is a process-wide singleton.
    return createRequire(import.meta.url)('process-on-spawn') as ProcessOnSpawn
  } catch {
    return undefined // tap no longer uses it: nothing to undo
  }
}

loadProcessOnSpawn()?.addListener((options) => {
  const nodeOptions = options.env.NODE_OPTIONS
  if (nodeOptions === undefined || !TAP_HOOK.test(nodeOptions)) return
  TAP_HOOK.lastIndex = 0
  const rest = nodeOptions.replace(TAP_HOOK, '').trim()
  const env = { ...options.env }
  if (rest === '') delete env.NODE_OPTIONS
  else env.NODE_OPTIONS = rest
  options.env = env
})
