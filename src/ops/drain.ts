// Shutting down the way Kubernetes expects. On SIGTERM the gateway says it is not ready and, for
// lifecycle.shutdownDelay, keeps its listener open: every request, on a new or a kept-alive
// connection, gets a 503 with Connection: close (never ECONNREFUSED) while the endpoints controller
// and the ingress stop sending traffic here. Then it stops listening, lets requests in flight
// finish and keeps open WebSockets for the grace period, and closes. fastify's close would end
// WebSockets at once (@fastify/http-proxy closes them when the server closes), so the gateway
// waits for them first.
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

  /**
   * Begins the shutdown and waits `delayMs` with the listener still open (requests get 503 and
   * Connection: close meanwhile). Resolves at once with 0.
   */
  async begin(delayMs: number): Promise<void> {
    this.closing = true
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs))
  }

  /** Resolves when no WebSocket is open any more, or at the deadline (epoch ms). */
  async webSocketsClosed(deadline: number): Promise<void> {
    while (this.#webSockets > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  }
}
