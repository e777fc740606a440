// Answers outside any route: while an instance drains, a browser on an open keep-alive connection
// gets the French 503 page with Connection: close (not fastify's English JSON); requests Node's
// parser refuses (malformed, headers too large) get a whole answer with Connection: close, and the
// client reads it instead of a reset.
import t from 'tap'
import { connect } from 'node:net'
import { startDelayedUpstream } from '../helpers/delayed-upstream.js'
import { rawRequest } from '../helpers/raw-http.js'
import { startStack } from '../helpers/stack.js'

/** Sends `bytes` on a fresh connection and collects everything until the server closes it. */
function exchange(port: number, bytes: string | Buffer): Promise<{ text: string; reset: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    let reset = false
    socket.on('data', (c) => chunks.push(c))
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET') reset = true
    })
    socket.on('close', () => resolve({ text: Buffer.concat(chunks).toString('utf8'), reset }))
    socket.write(bytes)
  })
}

t.test('headers too large: 431 with Connection: close and a French page, no reset', async (t) => {
  const stack = await startStack()
  t.teardown(() => stack.close())
  const port = Number(new URL(stack.url).port)
  const huge = `GET /public/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`
  const { text, reset } = await exchange(port, huge)
  t.match(text, /^HTTP\/1\.1 431 /)
  t.match(text, /\r\nConnection: close\r\n/i)
  t.match(text, /<html lang="fr">/)
  t.notOk(reset, 'the client read the whole answer, no ECONNRESET')
})

t.test('a malformed request: 400 with Connection: close and a French page', async (t) => {
  const stack = await startStack()
  t.teardown(() => stack.close())
  const port = Number(new URL(stack.url).port)
  const { text, reset } = await exchange(
    port,
    'GET /public/x HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header Name: x\r\n\r\n',
  )
  t.match(text, /^HTTP\/1\.1 400 /)
  t.match(text, /\r\nConnection: close\r\n/i)
  t.match(text, /Requête invalide/)
  t.notOk(reset)
})

t.test('while draining, a browser gets the French 503 page with Connection: close', async (t) => {
  const slow = await startDelayedUpstream(1500)
  t.teardown(() => slow.close())
  const stack = await startStack({ upstreamUrl: slow.url })
  const port = Number(new URL(stack.url).port)
  // A keep-alive connection, opened before the drain starts.
  const idle = connect(port, '127.0.0.1')
  await new Promise((r) => idle.once('connect', r))
  // A request in flight keeps the instance draining for its duration.
  const inFlight = rawRequest(stack.url, 'GET /public/slow HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', {
    timeoutMs: 5000,
  })
  await new Promise((r) => setTimeout(r, 200)) // so that the request is in flight at the upstream before the close
  const closing = stack.close()
  await new Promise((r) => setTimeout(r, 100)) // time passing: the close has begun (no event says so in-process)
  const answer = new Promise<string>((resolve) => {
    const chunks: Buffer[] = []
    idle.on('data', (c) => chunks.push(c))
    idle.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')))
    idle.on('error', () => undefined)
  })
  idle.write('GET /public/page HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\nAccept-Language: fr-FR\r\n\r\n')
  const text = await answer
  t.match(text, /^HTTP\/1\.1 503 /)
  t.match(text, /\r\nconnection: close\r\n/i)
  t.match(text, /Service en cours de redémarrage/)
  t.notMatch(text, /"statusCode":503/, "not fastify's English JSON")
  t.equal((await inFlight).response?.status, 200, 'the request in flight finished')
  await closing
})
