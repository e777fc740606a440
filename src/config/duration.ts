// Durations in the YAML are a whole number and a unit ("500ms", "90s", "30m", "8h", "1d"): no
// fractions, no compound forms, so that what an integrator reads is exactly what the gateway does.

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
const DURATION = /^([0-9]{1,15})(ms|s|m|h|d)$/

/** "90s" → 90000. Throws a RangeError for anything else (the schema rejects it before we get here). */
export function parseDuration (text: string): number {
  const m = DURATION.exec(text)
  if (m === null) throw new RangeError(`not a duration: expected a whole number and a unit (ms, s, m, h, d), e.g. "30m"`)
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]
  if (!Number.isSafeInteger(ms)) throw new RangeError('duration too large')
  return ms
}
