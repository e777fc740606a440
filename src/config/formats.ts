// The value formats several sections share: each is one TypeBox schema, so the published JSON
// Schema, the validation and the TypeScript types agree on it.
import { Type, type SchemaOptions, type TSchema, type TUnsafe } from '@sinclair/typebox'
import { DURATION_PATTERN } from './duration.js'

/** A duration as written ("30m"). Branded so that types can find duration keys (see duration-keys.ts). */
export type DurationText = string & { readonly __duration: true }

// Symbol keys: they mark the schema for duration-keys.ts and disappear from the published JSON.
const DURATION_MARK = Symbol.for('psc-gateway.duration')
const TIMER_MARK = Symbol.for('psc-gateway.duration.timer')
// A duration where 0 means "none" (lifecycle.shutdownDelay); elsewhere 0 is refused.
const ZERO_MARK = Symbol.for('psc-gateway.duration.zero')

/** The longest a Node.js timer waits; a longer delay is silently set to 1 ms. */
export const TIMER_MAX_MS = 2_147_483_647

const DurationBase = Type.String({
  pattern: DURATION_PATTERN,
  description: 'A duration: a whole number and a unit, e.g. "90s", "30m", "8h", "1d"',
})

/**
 * A duration key; validated and converted to `<key>Ms` (milliseconds) for the whole file at once.
 * `timer`: the gateway waits for it with a Node.js timer (setTimeout, AbortSignal.timeout, a
 * client library's timeout), so it may not exceed TIMER_MAX_MS.
 */
export function Duration(
  options: SchemaOptions = {},
  use: { timer?: boolean; zero?: boolean } = {},
): TUnsafe<DurationText> {
  return Type.Unsafe<DurationText>({
    ...DurationBase,
    ...options,
    [DURATION_MARK]: true,
    [TIMER_MARK]: use.timer === true,
    [ZERO_MARK]: use.zero === true,
  })
}

const marked = (schema: TSchema, mark: symbol): boolean => (schema as unknown as Record<symbol, unknown>)[mark] === true

export const isDurationSchema = (schema: TSchema): boolean => marked(schema, DURATION_MARK)
export const isTimerDuration = (schema: TSchema): boolean => marked(schema, TIMER_MARK)
export const isZeroAllowed = (schema: TSchema): boolean => marked(schema, ZERO_MARK)

export const HttpUrl = Type.String({ pattern: '^https?://[^\\s]+$', description: 'An http:// or https:// URL' })

export const PathPrefix = Type.String({
  pattern: "^/([A-Za-z0-9._~!$&'()*+,;=:@%-]+(/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*)?$",
  description: 'An absolute path without a trailing slash, e.g. "/admin" (or "/" for everything)',
})

export const HeaderName = Type.String({
  pattern: '^[A-Za-z0-9-]+$',
  description: 'An HTTP header name (letters, digits, "-")',
})

export const NonEmpty = (description: string) => Type.String({ minLength: 1, description })
