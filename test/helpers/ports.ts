// Ports for in-process servers without a race: the port is bound (port 0, chosen by the kernel) and
// the bound socket itself is handed to the gateway (Gateway.listen({ handle })), instead of
// picking a free port, closing it, and binding it again later, when another test process may
// have taken it (EADDRINUSE).
import { createConnection, createServer, type Server } from 'node:net'

export interface ReservedPort {
  port: number
  /** for Gateway.listen(reserved) */
  handle: object
  /** closes the socket if nothing took it over */
  release(): void
}

export async function reservePort(): Promise<ReservedPort> {
  const server: Server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as { port: number }
  const handle = (server as unknown as { _handle: object })._handle
  return { port, handle, release: () => { if (server.listening) server.close() } }
}

/** Resolves once something listens on 127.0.0.1:`port`; throws naming `what` after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs: number, what = 'the server'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host: '127.0.0.1' }, () => { s.end(); resolve(true) })
      s.on('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port} within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
