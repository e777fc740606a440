// log: the operational log.
import { Type } from '@sinclair/typebox'
import type { ConfigSection } from '../checks.js'

export const LogSchema = Type.Object(
  {
    level: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info' },
    ),
  },
  { additionalProperties: false, default: {} },
)

export const log: ConfigSection<'log'> = {
  convert: (raw) => ({ log: { ...raw.log } }),
}
