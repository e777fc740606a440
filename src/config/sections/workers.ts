// workers: how many processes serve requests (one primary forks them); 1 keeps the single process.
import { availableParallelism } from 'node:os'
import { Type } from '@sinclair/typebox'
import type { ConfigSection } from '../checks.js'

/** More would mostly add memory and PSC connections: a hospital VM has far fewer cores. */
export const MAX_WORKERS = 64

export const WorkersSchema = Type.Union([Type.Integer({ minimum: 1, maximum: MAX_WORKERS }), Type.Literal('auto')], {
  default: 1,
  description:
    'Processes serving requests: 1 (one process, the default; Kubernetes: one per pod, scale with replicas), ' +
    `2 to ${MAX_WORKERS}, or auto (one per core: a VM). With more than one, a primary process owns the audit ` +
    'trail, the admin listener and the reload, and restarts a worker that crashes',
})

/** The number of worker processes `serve` runs: `auto` is one per core the process may use. */
export function workerCount(setting: number | 'auto', cores: () => number = availableParallelism): number {
  return setting === 'auto' ? Math.min(MAX_WORKERS, Math.max(1, cores())) : setting
}

export const workers: ConfigSection<'workers'> = {
  check(raw, checks) {
    // Each worker binds the port itself (SO_REUSEPORT): port 0 would give each one a port of its own.
    if (raw.workers !== 1 && raw.listen.port === 0)
      checks.error(['listen', 'port'], 'with workers other than 1, give the port: every worker listens on it')
  },
  convert: (raw) => ({ workers: raw.workers }),
}
