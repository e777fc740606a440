// Bench baseline: a bare @fastify/http-proxy (no auth, no logging, no audit) forwarding every
// request to the upstream given as argv[2]. Own process; prints `READY {"url": ...}` on stdout.
import httpProxy from '@fastify/http-proxy'
import Fastify from 'fastify'

const upstream = process.argv[2]
if (!upstream) {
  process.stderr.write('usage: bare-proxy.ts UPSTREAM_URL\n')
  process.exit(2)
}

const app = Fastify({ logger: false })
await app.register(httpProxy, { upstream, prefix: '/' })
const url = await app.listen({ host: '127.0.0.1', port: 0 })
process.stdout.write(`READY ${JSON.stringify({ url })}\n`)

let stopping = false
const stop = () => {
  if (stopping) return
  stopping = true
  setTimeout(() => process.exit(0), 1000).unref()
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.stdin.on('end', stop)
process.stdin.resume()
