// The one duration parser, shared by the configuration and the audit tools. A duration is a whole
// number and a unit ("500ms", "90s", "30m", "8h", "1d"): no fractions, no compound forms, no
// spaces, so that what an integrator reads is exactly what the gateway does.

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
const DURATION = /^([0-9]+)(ms|s|m|h|d)$/

/** The same grammar, for the JSON Schema (a value that fails it never reaches parseDuration). */
export const DURATION_PATTERN = '^[0-9]+(ms|s|m|h|d)$'

/**
 * "90s" → 90000. Anything that is not a duration, and a duration too long to count exactly in
 * milliseconds (over Number.MAX_SAFE_INTEGER), gives undefined. Never throws. "0s" gives 0: a
 * caller that needs a positive duration says so itself.
 */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text)
  if (m === null) return undefined
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]
  return Number.isSafeInteger(ms) ? ms : undefined
}
