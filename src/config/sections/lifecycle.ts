// lifecycle: shutdown and configuration reload.
import { Type } from '@sinclair/typebox'
import type { ConfigSection } from '../checks.js'
import { parseDuration } from '../duration.js'
import { withMs } from '../duration-keys.js'
import { Duration } from '../formats.js'

export const LifecycleSchema = Type.Object(
  {
    shutdownGrace: Duration(
      { default: '25s', description: 'On SIGTERM, how long in-flight requests may finish' },
      { timer: true },
    ),
    // Kubernetes removes a terminating pod from the Service endpoints while it already has SIGTERM:
    // for this long the listener stays open answering 503 with Connection: close (never
    // ECONNREFUSED), readiness says "shutting down", then the gateway closes. 0s: close at once.
    shutdownDelay: Duration(
      {
        default: '0s',
        description:
          'On SIGTERM, how long to keep the listener open answering 503 (Connection: close) before closing, while the load balancer stops sending traffic (Kubernetes: 5s or more)',
      },
      { timer: true, zero: true },
    ),
    // A worker's start is its session store's wait (5 s) plus loading and building the gateway:
    // 1 to 2 s on a quiet VM, over 20 s on a 2-core VM at load 20.
    workerStartTimeout: Duration(
      {
        default: '60s',
        description:
          'With workers: how long a worker may take from its start to listening. Past it, at start serve stops (exit 1); later, the worker is killed and restarted',
      },
      { timer: true },
    ),
    watchConfig: Type.Boolean({
      default: true,
      description: 'Reload routes, upstreams and headers when the file changes (also on SIGHUP)',
    }),
  },
  { additionalProperties: false, default: {} },
)

/** A worker waits this long for its session store before it listens: its start needs more. */
export const MIN_WORKER_START_MS = 10_000

export const lifecycle: ConfigSection<'lifecycle'> = {
  check(raw, checks) {
    const text = raw.lifecycle.workerStartTimeout
    const ms = text === undefined ? undefined : parseDuration(text)
    if (ms !== undefined && ms < MIN_WORKER_START_MS)
      checks.error(
        ['lifecycle', 'workerStartTimeout'],
        `at least ${MIN_WORKER_START_MS / 1000}s: a worker waits up to 5s for its session store before it listens`,
      )
  },
  convert: (raw) => ({ lifecycle: withMs(LifecycleSchema, raw.lifecycle) }),
}
