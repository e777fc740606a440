// lifecycle: shutdown and configuration reload.
import { Type } from '@sinclair/typebox'
import type { ConfigSection } from '../checks.js'
import { withMs } from '../durationKeys.js'
import { Duration } from '../formats.js'

export const LifecycleSchema = Type.Object({
  shutdownGrace: Duration({ default: '25s', description: 'On SIGTERM, how long in-flight requests may finish' }, { timer: true }),
  watchConfig: Type.Boolean({ default: true, description: 'Reload routes, upstreams and headers when the file changes (also on SIGHUP)' })
}, { additionalProperties: false, default: {} })

export const lifecycle: ConfigSection<'lifecycle'> = {
  convert: (raw) => ({ lifecycle: withMs(LifecycleSchema, raw.lifecycle) })
}
