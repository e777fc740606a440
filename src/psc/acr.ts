// PSC may return an acr HIGHER than the one asked for (eidas2 or eidas3 when eidas1 was requested):
// accept any level at or above the required one, refuse anything unknown.

export type EidasLevel = 'eidas1' | 'eidas2' | 'eidas3'

export const EIDAS_LEVELS: readonly EidasLevel[] = ['eidas1', 'eidas2', 'eidas3']

export function isEidasLevel(value: unknown): value is EidasLevel {
  return typeof value === 'string' && (EIDAS_LEVELS as readonly string[]).includes(value)
}

/** true when `returned` is a known eIDAS level at or above `required` */
export function acrSatisfies(returned: unknown, required: EidasLevel): boolean {
  if (!isEidasLevel(returned)) return false
  const requiredRank = EIDAS_LEVELS.indexOf(required)
  if (requiredRank < 0) return false
  return EIDAS_LEVELS.indexOf(returned) >= requiredRank
}
