// Start-up: a gateway process gives its session store a bounded wait to connect before it opens the
// public port, so that its first requests are not answered 503 "store unavailable" by a store still
// connecting. Past the wait it listens anyway: public routes work, the others fail closed, and
// /readyz reports the store until it connects, as when Redis goes down later.
import type { SessionStore } from './store.js'

/** how long start-up waits for the session store (a few Redis connect timeouts) */
export const STORE_WAIT_MS = 5000

interface StartLog {
  info(o: object, msg: string): void
  warn(o: object, msg: string): void
}

/** Waits up to `timeoutMs` for `store`; whether it is connected. A store with nothing to connect to is. */
export async function waitForStore(store: SessionStore, log: StartLog, timeoutMs = STORE_WAIT_MS): Promise<boolean> {
  if (store.ready === undefined) return true
  const started = Date.now()
  const first = await store.ready(0).then(
    () => true,
    () => false,
  )
  if (first) return true
  log.info({ store: store.kind, waitMs: timeoutMs }, 'waiting for the session store before listening')
  try {
    await store.ready(timeoutMs)
    log.info({ store: store.kind, durationMs: Date.now() - started }, 'session store connected')
    return true
  } catch (err) {
    log.warn(
      { store: store.kind, waitMs: timeoutMs, reason: err instanceof Error ? err.message : String(err) },
      'session store still unavailable: listening anyway (public routes work, the others answer 503 until it connects; /readyz reports it)',
    )
    return false
  }
}
