// The notice a login page shows when the gateway sent the practitioner there because their session
// timed out. The gate adds the parameter to the login address; anyone can add it, and all it does
// is show a sentence.
export const SESSION_EXPIRED_PARAM = 'expired=1'

/** Was the login asked because the session timed out? (the `expired=1` the gate adds) */
export function askedAfterExpiry(query: unknown): boolean {
  return typeof query === 'object' && query !== null && (query as Record<string, unknown>).expired === '1'
}
