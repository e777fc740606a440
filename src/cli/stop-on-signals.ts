// SIGTERM and SIGINT (Ctrl-C) stop a running command once: exit 0 when its stop resolves, 1 when it
// fails. A signal during the stop is told to `again` and changes nothing: no second drain or close,
// and no forced end either (the supervisor's own stop timeout, systemd's TimeoutStopSec, is that).
// Its own file: the commands load it without the configuration code.
export function stopOnSignals(
  stop: (signal: NodeJS.Signals) => Promise<void>,
  again: (signal: NodeJS.Signals) => void = () => {},
): void {
  let stopping = false
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return again(signal)
    stopping = true
    stop(signal).then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.on('SIGTERM', handler)
  process.on('SIGINT', handler)
}
