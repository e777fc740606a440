// The largest request body the gateway forwards. A declared Content-Length over the limit is
// refused before anything is forwarded; a chunked body is counted as it streams through, and the
// upstream request is aborted (never completed) once it goes over.
import { Transform, type Readable, type TransformCallback } from 'node:stream'

export class BodyTooLarge extends Error {
  readonly statusCode = 413
  readonly code = 'PSC_BODY_TOO_LARGE'
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes (limits.maxBodySize)`)
  }
}

/**
 * The body to forward, or a BodyTooLarge to answer with. Node's parser delivers exactly the
 * Content-Length it read (and refuses a request with both it and Transfer-Encoding), so a declared
 * length is the real one; only a chunked body needs counting.
 */
export function limitedBody(body: Readable, contentLength: string | undefined, limit: number): Readable | BodyTooLarge {
  if (limit === 0) return body
  if (contentLength !== undefined) return Number(contentLength) > limit ? new BodyTooLarge(limit) : body
  let seen = 0
  const counted = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      seen += chunk.length
      if (seen > limit) return done(new BodyTooLarge(limit))
      done(null, chunk)
    },
  })
  // Not pipeline(): an error must not destroy the client's request (its socket), so that the 413
  // can still be sent; the rest of the body is left unread and the connection closed after it.
  body.on('error', (err) => counted.destroy(err))
  return body.pipe(counted)
}
