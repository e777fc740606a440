// Ports for in-process servers without a race: the port is bound (port 0, chosen by the kernel) and
// the bound socket itself is handed to the gateway (Gateway.listen({ handle })), instead of
// picking a free port, closing it, and binding it again later, when another test process may
// have taken it (EADDRINUSE).
import { createServer, type Server } from 'node:net'

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
