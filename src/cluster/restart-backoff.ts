// When the primary restarts a worker that ended unasked: at once the first time, then waiting twice
// as long at each crash in a row (1 s, 2 s, 4 s... up to 30 s), so that a worker that cannot start
// (a bad upstream certificate, memory) does not spin the CPU and flood the audit trail. A worker that
// ran for a minute was not crash-looping: the count starts again.
export const MAX_RESTART_DELAY_MS = 30_000
export const STABLE_AFTER_MS = 60_000

/** How many crashes in a row, counting this one, given the last count and how long the worker ran. */
export function crashesInARow(previous: number, ranForMs: number): number {
  return ranForMs >= STABLE_AFTER_MS ? 1 : previous + 1
}

/** The wait before the restart after the n-th crash in a row (n ≥ 1). */
export function restartDelayMs(crashes: number): number {
  return crashes <= 1 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 1000 * 2 ** (crashes - 2))
}
