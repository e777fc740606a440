// The primary's questions to its listening workers (their metrics, their readiness): one message
// each, the answers matched by id, a worker silent past the deadline left out of the answer.
import type { ToWorker, WorkerMetrics, WorkerReadiness } from './messages.js'

/** How long the primary waits for a worker's answer before going on without it. */
const ANSWER_TIMEOUT_MS = 1500

export class WorkerQuestions {
  #nextId = 0
  readonly #waiting = new Map<number, (value: WorkerMetrics | WorkerReadiness) => void>()

  /** Asks every worker in `to` (its number, and how to send it a message); resolves with those that answered in time. */
  ask<T extends WorkerMetrics | WorkerReadiness>(
    what: 'metrics' | 'readiness',
    to: Array<{ n: number; send: (message: ToWorker) => void }>,
  ): Promise<Array<{ worker: number; value: T }>> {
    return Promise.all(
      to.map(
        (w) =>
          new Promise<{ worker: number; value: T } | undefined>((resolve) => {
            const id = ++this.#nextId
            const timer = setTimeout(() => {
              this.#waiting.delete(id)
              resolve(undefined)
            }, ANSWER_TIMEOUT_MS)
            this.#waiting.set(id, (value) => {
              // An answer of the other kind is no answer: the worker counts as silent.
              if (Array.isArray(value) !== (what === 'metrics')) return
              clearTimeout(timer)
              this.#waiting.delete(id)
              resolve({ worker: w.n, value: value as T })
            })
            w.send({ type: 'psc-cluster:ask', id, what })
          }),
      ),
    ).then((all) => all.filter((a) => a !== undefined))
  }

  /** A worker's answer: to the question of this id, if it still waits. */
  answered(id: number, value: WorkerMetrics | WorkerReadiness): void {
    this.#waiting.get(id)?.(value)
  }
}
