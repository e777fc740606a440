// The login page's images, served by the gateway itself under the reserved prefix (read once at
// start-up; their type was recognised from their bytes when the configuration was checked).
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import type { BrandingImage, GatewayConfig } from '../config/types.js'
import { endpointScope } from './endpoint-scope.js'

export const LOGO_PATH = '/branding/logo'
export const PSC_BUTTON_PATH = '/branding/psc-button'

export function registerBrandingRoutes(app: FastifyInstance, config: GatewayConfig): void {
  const serve = (path: string, image: BrandingImage | undefined) => {
    if (image === undefined) return
    const bytes = readFileSync(image.file)
    app.get(`${config.prefix}${path}`, async (request, reply) => {
      endpointScope(request, 'allow')
      return (
        reply
          .header('content-type', image.contentType)
          .header('cache-control', 'public, max-age=3600')
          .header('x-content-type-options', 'nosniff')
          // an SVG opened on its own runs no script and loads nothing
          .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox")
          .send(bytes)
      )
    })
  }
  serve(LOGO_PATH, config.branding.logo)
  serve(PSC_BUTTON_PATH, config.branding.pscButton)
}
