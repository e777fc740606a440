// Shutting down the way Kubernetes expects: on SIGTERM the gateway turns away new requests (503,
// Connection: close) and says it is not ready, lets requests in flight finish and keeps open
// WebSockets for the grace period, then closes. fastify's close would end WebSockets at once
// (@fastify/http-proxy closes them when the server closes), so the gateway waits for them first.
import type { Server } from 'node:http'

export class Drain {
  /** set when shutdown begins: new requests are answered 503 */
  closing = false
  #webSockets = 0

  /** Counts upgraded connections. Only for servers that handle upgrades (else Node would hand them to us alone). */
  trackWebSockets(server: Server): void {
    server.on('upgrade', (_request, socket) => {
      this.#webSockets++
      socket.once('close', () => this.#webSockets--)
    })
  }

  get openWebSockets(): number {
    return this.#webSockets
  }

  /** Resolves when no WebSocket is open any more, or at the deadline (epoch ms). */
  async webSocketsClosed(deadline: number): Promise<void> {
    while (this.#webSockets > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  }
}
