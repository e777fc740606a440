// Soak upstream: answers with the identity it received, so the soak can check every response.
// Usage: soak-upstream.ts PORT. Prints `READY {"url": ...}`.
import { createServer } from 'node:http'

const port = Number(process.argv[2] ?? 0)
const server = createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    const body = JSON.stringify({ idNat: req.headers['x-psc-idnat'] ?? null, path: req.url })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
})
server.keepAliveTimeout = 30_000
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`READY ${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`)
})
const stop = () => {
  server.closeAllConnections()
  server.close(() => process.exit(0))
  setTimeout(() => process.exit(0), 1000).unref()
}
process.on('SIGTERM', stop)
process.stdin.on('end', stop)
process.stdin.resume()
