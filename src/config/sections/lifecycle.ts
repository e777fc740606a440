// lifecycle: shutdown and configuration reload.
import { Type } from '@sinclair/typebox'
import type { ConfigSection } from '../checks.js'
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
    watchConfig: Type.Boolean({
      default: true,
      description: 'Reload routes, upstreams and headers when the file changes (also on SIGHUP)',
    }),
  },
  { additionalProperties: false, default: {} },
)

export const lifecycle: ConfigSection<'lifecycle'> = {
  convert: (raw) => ({ lifecycle: withMs(LifecycleSchema, raw.lifecycle) }),
}
