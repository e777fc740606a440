// Duration keys, found through the schema rather than listed by hand: every key whose schema is
// formats.ts' Duration is checked once for the whole file (checkDurations) and becomes a number of
// milliseconds named `<key>Ms` in the converted configuration (withMs, WithMs). A duration key
// added to any section is therefore validated, converted and typed without further code.
import { Kind, type TSchema } from '@sinclair/typebox'
import { parseDuration } from './duration.js'
import { TIMER_MAX_MS, isDurationSchema, isTimerDuration, isZeroAllowed, type DurationText } from './formats.js'
import type { Checks } from './checks.js'

type Schema = TSchema & Record<string, unknown>

/** The converted form of a configuration value: `timeout: "30s"` becomes `timeoutMs: 30000`. */
export type WithMs<T> = T extends DurationText
  ? number
  : T extends ReadonlyArray<infer E>
    ? Array<WithMs<E>>
    : T extends object
      ? { [K in keyof T as NonNullable<T[K]> extends DurationText ? `${K & string}Ms` : K]: WithMs<T[K]> }
      : T

const MAX_DAYS = Math.floor(Number.MAX_SAFE_INTEGER / 86_400_000)

function children(schema: Schema, value: unknown): Array<[string, Schema | undefined, unknown]> {
  if (typeof value !== 'object' || value === null) return []
  const entries = Object.entries(value)
  switch (schema[Kind]) {
    case 'Object': {
      const props = schema.properties as Record<string, Schema>
      return entries.map(([k, v]) => [k, props[k], v])
    }
    case 'Record': {
      const item = Object.values(schema.patternProperties as Record<string, Schema>)[0]
      return entries.map(([k, v]) => [k, item, v])
    }
    case 'Array':
      return entries.map(([k, v]) => [k, schema.items as Schema, v])
    default:
      return []
  }
}

/** Every duration in the (schema-valid) value must be countable, greater than zero, and fit its timer. */
export function checkDurations(schema: TSchema, value: unknown, checks: Checks, path: string[] = []): void {
  if (isDurationSchema(schema)) {
    const ms = parseDuration(value as string)
    if (ms === undefined)
      checks.error(path, `expected a duration of at most ${MAX_DAYS}d, got ${JSON.stringify(value)}`)
    else if (ms === 0 && !isZeroAllowed(schema))
      checks.error(path, `expected a duration greater than zero, got ${JSON.stringify(value)}`)
    else if (ms > TIMER_MAX_MS && isTimerDuration(schema)) {
      checks.error(
        path,
        `expected a duration of at most ${TIMER_MAX_MS}ms (24.8 days, the longest a timer can wait), got ${JSON.stringify(value)}`,
      )
    }
    return
  }
  for (const [key, child, v] of children(schema as Schema, value)) {
    if (child !== undefined) checkDurations(child, v, checks, [...path, key])
  }
}

/** A deep copy of a checked value in which each duration key `k` is replaced by `kMs`. */
export function withMs<S extends TSchema, T>(schema: S, value: T): WithMs<T> {
  return convert(schema as Schema, value) as WithMs<T>
}

function convert(schema: Schema, value: unknown): unknown {
  if (isDurationSchema(schema)) return parseDuration(value as string)
  if (typeof value !== 'object' || value === null) return value
  const kind = schema[Kind]
  if (kind !== 'Object' && kind !== 'Record' && kind !== 'Array') return structuredClone(value)
  const out: Record<string, unknown> = {}
  for (const [key, child, v] of children(schema, value)) {
    if (child === undefined) out[key] = structuredClone(v)
    else if (isDurationSchema(child)) out[`${key}Ms`] = parseDuration(v as string)
    else out[key] = convert(child, v)
  }
  return Array.isArray(value) ? Object.values(out) : out
}
