// A client that gives up while its request waits for the audit output (block mode, the output
// failing): its access event says so (PSC_ERR_CLIENT_GONE, status 499, aborted), not a 200 with an
// internal error though nothing was sent; and the request is not forwarded once the output can
// write again, since nobody is left to answer.
import t from 'tap'
import { createServer } from 'node:http'
import type { AuditEvent } from '../../src/audit/events.js'
import { startAuditStack } from './audit-stack.js'

t.test(
  'a client gone while waiting for the audit: reject, PSC_ERR_CLIENT_GONE, 499, aborted; nothing forwarded',
  async (t) => {
    let upstreamHits = 0
    const upstream = createServer((_req, res) => {
      upstreamHits++
      res.end('ok')
    })
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
    t.teardown(() => upstream.close())
    const address = upstream.address() as { port: number }

    const events: AuditEvent[] = []
    let release: (() => void) | undefined
    let gate: Promise<boolean> | undefined
    const sink = {
      write(event: AuditEvent) {
        events.push(event)
      },
      admit() {
        return gate
      },
    }
    const stack = await startAuditStack({ audit: sink, stack: { upstreamUrl: `http://127.0.0.1:${address.port}` } })
    t.teardown(() => stack.close())

    gate = new Promise<boolean>((resolve) => {
      release = () => resolve(true)
    })
    const gaveUp = await fetch(`${stack.url}/public/item`, { signal: AbortSignal.timeout(300) }).then(
      () => 'answered',
      (err: Error) => err.name,
    )
    t.equal(gaveUp, 'TimeoutError', 'the client gave up while the gateway waited')
    await new Promise((r) => setTimeout(r, 200)) // time passing: the gateway keeps waiting after the client left
    release!()
    gate = undefined
    await new Promise((r) => setTimeout(r, 300)) // time passing: nothing more may arrive (no upstream hit, no second event)

    const access = events.filter((e) => e.event === 'access')
    t.equal(access.length, 1, 'one access event')
    t.match(access[0], {
      decision: 'reject',
      reason: 'PSC_ERR_CLIENT_GONE',
      status: 499,
      aborted: true,
      path: '/public/item',
    })
    t.equal(upstreamHits, 0, 'the request was not forwarded after the client left')

    const after = await fetch(`${stack.url}/public/item`)
    t.equal(after.status, 200, 'the next request is served')
    await after.arrayBuffer()
    t.equal(upstreamHits, 1)
  },
)
