// /readyz of `serve`'s cluster, on the primary's admin listener: the primary's own checks (audit
// outputs, shutdown, the configuration in force, the session store it holds), the workers' (PSC
// discovery, the account directory, their session store connections), and one more: every worker
// listening. A check the workers run is ok only when it is ok in every worker that answered.
import type { CheckResult, ReadinessCheck } from '../ops/admin.js'
import type { WorkerReadiness } from './messages.js'

export interface ClusterReadinessDeps {
  /** the primary's own checks (config, sessions, audit, lifecycle) */
  own: ReadinessCheck[]
  /** the checks the workers run that the primary cannot answer alone (psc, sessions, accounts...) */
  fromWorkers: string[]
  /** the workers' answers (one round for all the checks of a /readyz) */
  ask(): Promise<Array<{ worker: number; value: WorkerReadiness }>>
  /** how many workers there should be, and those listening now */
  expected: number
  listening(): number[]
}

export function clusterReadiness(deps: ClusterReadinessDeps): ReadinessCheck[] {
  // The checks of one /readyz (or one scrape) run at once: they share one round of questions.
  let round: { at: number; answers: Promise<Array<{ worker: number; value: WorkerReadiness }>> } | undefined
  const answers = () => {
    const now = Date.now()
    if (round === undefined || now - round.at > 250) round = { at: now, answers: deps.ask() }
    return round.answers
  }
  const merged = async (name: string, own: ReadinessCheck | undefined): Promise<CheckResult> => {
    const results: Array<[string, CheckResult]> = []
    if (own !== undefined) results.push(['primary', await own.check()])
    for (const { worker, value } of await answers()) {
      const r = value[name]
      if (r !== undefined) results.push([`worker ${worker}`, r])
    }
    const failing = results.filter(([, r]) => !r.ok)
    if (failing.length === 0)
      return { ok: true, ...(results[0]?.[1].reason !== undefined && { reason: results[0][1].reason }) }
    return {
      ok: false,
      reason: failing.map(([who, r]) => `${who}: ${r.reason ?? 'failing'}`).join('; '),
      ...(failing.every(([, r]) => r.reportOnly === true) && { reportOnly: true }),
    }
  }
  const checks: ReadinessCheck[] = deps.own.map((c) =>
    deps.fromWorkers.includes(c.name) ? { name: c.name, check: () => merged(c.name, c) } : c,
  )
  for (const name of deps.fromWorkers)
    if (!deps.own.some((c) => c.name === name)) checks.push({ name, check: () => merged(name, undefined) })
  checks.push({
    name: 'workers',
    check: () => {
      const up = deps.listening()
      if (up.length === deps.expected) return { ok: true, reason: `${up.length} workers listening` }
      const missing = Array.from({ length: deps.expected }, (_, i) => i + 1).filter((n) => !up.includes(n))
      return { ok: false, reason: `worker ${missing.join(', ')} not listening (${up.length} of ${deps.expected})` }
    },
  })
  return checks
}
