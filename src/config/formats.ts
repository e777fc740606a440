// The value formats several sections share: each is one TypeBox schema, so the published JSON
// Schema, the validation and the TypeScript types agree on it.
import { Type, type SchemaOptions, type TSchema, type TUnsafe } from '@sinclair/typebox'
import { DURATION_PATTERN } from './duration.js'

/** A duration as written ("30m"). Branded so that types can find duration keys (see durationKeys.ts). */
export type DurationText = string & { readonly __duration: true }

// A symbol key: it marks the schema for durationKeys.ts and disappears from the published JSON.
const DURATION_MARK = Symbol.for('psc-gateway.duration')

const DurationBase = Type.String({
  pattern: DURATION_PATTERN,
  description: 'A duration: a whole number and a unit, e.g. "90s", "30m", "8h", "1d"'
})

/** A duration key; validated and converted to `<key>Ms` (milliseconds) for the whole file at once. */
export function Duration (options: SchemaOptions = {}): TUnsafe<DurationText> {
  return Type.Unsafe<DurationText>({ ...DurationBase, ...options, [DURATION_MARK]: true })
}

export function isDurationSchema (schema: TSchema): boolean {
  return (schema as unknown as Record<symbol, unknown>)[DURATION_MARK] === true
}

export const HttpUrl = Type.String({ pattern: '^https?://[^\\s]+$', description: 'An http:// or https:// URL' })

export const PathPrefix = Type.String({
  pattern: '^/([A-Za-z0-9._~!$&\'()*+,;=:@%-]+(/[A-Za-z0-9._~!$&\'()*+,;=:@%-]+)*)?$',
  description: 'An absolute path without a trailing slash, e.g. "/admin" (or "/" for everything)'
})

export const HeaderName = Type.String({ pattern: '^[A-Za-z0-9-]+$', description: 'An HTTP header name (letters, digits, "-")' })

export const NonEmpty = (description: string) => Type.String({ minLength: 1, description })
