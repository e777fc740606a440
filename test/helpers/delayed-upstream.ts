// An upstream that takes its time: answers `{"url": ...}` after `delayMs` (or `?delay=ms`), for
// timeout, drain and abort tests.
import { createServer } from 'node:http'

export interface DelayedUpstream {
  url: string
  close(): Promise<void>
}

export async function startDelayedUpstream(delayMs = 0): Promise<DelayedUpstream> {
  const server = createServer((req, res) => {
    const asked = new URL(req.url ?? '/', 'http://x').searchParams.get('delay')
    setTimeout(() => res.end(JSON.stringify({ url: req.url })), asked === null ? delayMs : Number(asked)).unref()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}
