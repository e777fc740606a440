// Bench upstream: a minimal node:http server answering every request with the same small body.
// Runs in its own process; prints one line `READY {"url": ...}` on stdout, and exits when its
// parent goes away (stdin closed) or on SIGTERM.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

const BODY = Buffer.from(JSON.stringify({ ok: true, service: 'bench-upstream', padding: 'x'.repeat(64) }))

const server = createServer((req, res) => {
  // Drain any request body, then answer the fixed one.
  req.resume()
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY.length })
    res.end(BODY)
  })
})
server.keepAliveTimeout = 30_000

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo
  process.stdout.write(`READY ${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`)
})

const stop = () => {
  server.closeAllConnections()
  server.close(() => process.exit(0))
  setTimeout(() => process.exit(0), 1000).unref()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.stdin.on('end', stop)
process.stdin.resume()
