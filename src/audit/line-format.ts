// Turns serialised events into the text of a batch of lines: plain `{"log":"audit",...}` lines, or
// chained lines (chain.ts) with a chain-start marker first after each opening.
import { ChainSealer, type ChainPosition } from './chain.js'
import type { ChainStart } from './event-schema.js'

type ChainStartReason = ChainStart['reason']

export class LineFormat {
  readonly sealer: ChainSealer | undefined
  /** a chain-start is due before the next line (set at each opening of the destination) */
  #startDue: { file: string; reason: ChainStartReason } | undefined

  constructor(hmacKey: string | Buffer | undefined, previous: ChainPosition | null = null) {
    this.sealer = hmacKey === undefined ? undefined : new ChainSealer(Buffer.from(hmacKey), previous)
  }

  /** The destination was (re)opened: a chained format restarts its chain there. */
  opened(file: string, reason: ChainStartReason, previous?: ChainPosition | null): void {
    if (this.sealer === undefined) return
    if (previous !== undefined && this.sealer.position === null) this.sealer.position = previous
    this.#startDue = { file, reason }
  }

  /** The batch's text and a commit to call once it is written (chain state moves only then). */
  format(bodies: string[]): { text: string; commit: () => void } {
    const sealer = this.sealer
    if (sealer === undefined) {
      let text = ''
      for (const b of bodies) text += `{"log":"audit",${b.slice(1)}\n`
      return { text, commit: () => {} }
    }
    let text = ''
    let pos: ChainPosition | null = sealer.position
    const start = this.#startDue
    if (start !== undefined || pos === null) {
      const s = sealer.start(start?.file ?? '(stream)', start?.reason ?? 'open')
      text += s.text
      pos = s.after
    }
    for (const b of bodies) {
      const sealed = sealer.seal(b, pos!)
      text += sealed.text
      pos = sealed.after
    }
    return {
      text,
      commit: () => {
        sealer.position = pos
        if (this.#startDue === start) this.#startDue = undefined
      },
    }
  }
}
