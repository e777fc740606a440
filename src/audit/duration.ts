// "30m", "2h", "7d" → milliseconds (audit query --since/--until ages); undefined when not a duration.
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

export function parseDuration (text: string): number | undefined {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text)
  return m === null ? undefined : Number(m[1]) * UNITS[m[2]!]!
}
