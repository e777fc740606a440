// A destination on any Writable stream (tests use a deliberately slow one): one write per batch,
// the next only after the stream called back.
import type { Writable } from 'node:stream'
import { LineFormat } from './line-format.js'
import type { BatchDestination } from './queue-contract.js'

export class StreamDestination implements BatchDestination {
  readonly format: LineFormat

  constructor(
    private readonly stream: Writable,
    options: { hmacKey?: string | Buffer; name?: string } = {},
  ) {
    this.format = new LineFormat(options.hmacKey)
    this.format.opened(options.name ?? '(stream)', 'open', null)
  }

  writeBatch(bodies: string[], done: (err?: Error | null) => void): void {
    const { text, commit } = this.format.format(bodies)
    if (text === '') return done()
    this.stream.write(text, (err) => {
      if (!err) commit()
      done(err)
    })
  }
}
