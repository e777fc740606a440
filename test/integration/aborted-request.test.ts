// A client that goes away before its response still leaves exactly one access line, marked aborted.
import { connect } from 'node:net'
import t from 'tap'
import { startDelayedUpstream } from '../helpers/delayed-upstream.js'
import { startStack } from '../helpers/stack.js'

t.test('a request whose client disconnects is audited once, as aborted', async (t) => {
  const slow = await startDelayedUpstream(1500)
  t.teardown(() => slow.close())
  const stack = await startStack({ upstreamUrl: slow.url })
  t.teardown(() => stack.close())
  const port = Number(new URL(stack.url).port)

  const socket = connect(port, '127.0.0.1')
  await new Promise<void>((r) => socket.once('connect', () => r()))
  socket.write('GET /public/slow HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: leaver\r\n\r\n')
  await new Promise((r) => setTimeout(r, 300)) // so that the request is at the upstream when the client leaves
  socket.destroy()
  await new Promise((r) => setTimeout(r, 2000)) // past the upstream's answer
  const lines = stack.audit.filter((e) => e.event === 'access' && (e as { userAgent?: string }).userAgent === 'leaver')
  t.equal(lines.length, 1, 'exactly one access line')
  t.match(lines[0], { route: 'public', path: '/public/slow', aborted: true })
  t.equal((await fetch(`${stack.url}/_psc/me`)).status, 401, 'the gateway is unharmed')
})
