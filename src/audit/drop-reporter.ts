// Counts events an audit output dropped and reports them at the first drop, then at most once per
// interval with the count since the last report: one log line per burst, not one per event.
export class DropReporter<R> {
  #report: (lost: number, reason: R) => void
  #everyMs: number
  #unreported = 0
  #reason: R | undefined
  #last = 0
  #timer: NodeJS.Timeout | undefined

  constructor(report: (lost: number, reason: R) => void, everyMs: number) {
    this.#report = report
    this.#everyMs = everyMs
  }

  add(reason: R): void {
    this.#unreported++
    this.#reason = reason
    const wait = this.#last + this.#everyMs - Date.now()
    if (wait <= 0) this.flush()
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush(), wait)
      this.#timer.unref()
    }
  }

  /** Reports what is not reported yet (at close). */
  flush(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#unreported === 0) return
    const n = this.#unreported
    this.#unreported = 0
    this.#last = Date.now()
    this.#report(n, this.#reason!)
  }
}
