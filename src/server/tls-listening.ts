// What runs beside the HTTPS listener when the gateway serves HTTPS itself: the watch that picks up
// renewed certificate files, and the optional HTTP listener that only redirects to publicUrl.
import type { Server as HttpServer } from 'node:http'
import type { Server as TlsServer } from 'node:tls'
import type { FastifyInstance } from 'fastify'
import type { ListenTls } from '../config/sections/server.js'
import type { GatewayConfig } from '../config/types.js'
import { createRedirectServer } from './tls-redirect.js'
import { watchServerCertificate, type CertificateWatch } from './tls-reload.js'

export interface SecureListening {
  certificate: CertificateWatch
  redirectUrl?: string
  close(): Promise<void>
}

export async function listenSecure(
  { config, app }: { config: GatewayConfig; app: FastifyInstance },
  tls: ListenTls,
): Promise<SecureListening> {
  const certificate = watchServerCertificate(app.server as unknown as TlsServer, tls, app.log as never)
  let redirect: HttpServer | undefined
  let redirectUrl: string | undefined
  const r = config.listen.httpRedirect
  if (r !== undefined) {
    const server = createRedirectServer(config.publicUrl)
    redirect = server
    const host = r.host ?? config.listen.host
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host, port: r.port }, () => resolve())
    })
    const address = server.address()
    const port = typeof address === 'object' && address !== null ? address.port : r.port
    redirectUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  }
  return {
    certificate,
    ...(redirectUrl !== undefined && { redirectUrl }),
    async close() {
      certificate.close()
      if (redirect !== undefined) {
        const server = redirect
        await new Promise<void>((resolve) => server.close(() => resolve()))
        server.closeAllConnections()
      }
    },
  }
}
