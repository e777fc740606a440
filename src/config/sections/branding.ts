// branding: what the login page says about where the practitioner is: the service's dénomination,
// the establishment, an optional logo, and the Pro Santé Connect button (ANS's image when given).
// The images are files read at start-up, size-limited and recognised by their first bytes.
import { Type } from '@sinclair/typebox'
import type { ConfigSection } from '../checks.js'
import { placeFile, readNamedFile } from '../named-file.js'
import type { RawConfig } from '../schema.js'

/** The largest image accepted (a logo or a button is a few kilobytes). */
export const BRANDING_IMAGE_MAX_BYTES = 200 * 1024

const Label = (description: string) => Type.Optional(Type.String({ minLength: 1, maxLength: 120, description }))

export const BrandingSchema = Type.Object(
  {
    service: Label('The service\'s dénomination shown on the login page, e.g. "Dossier patient informatisé"'),
    establishment: Label('The establishment shown on the login page, e.g. "CHU de Nantes"'),
    logo: Type.Optional(
      Type.String({
        minLength: 1,
        description: `The establishment's logo (PNG, JPEG, WebP or SVG, at most ${BRANDING_IMAGE_MAX_BYTES / 1024} KiB), relative to this configuration file; served by the gateway under <prefix>/branding/logo`,
      }),
    ),
    pscButton: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'ANS\'s Pro Santé Connect button image (SVG or PNG from ANS\'s kit), relative to this configuration file; without it, a text button "Se connecter avec Pro Santé Connect"',
      }),
    ),
  },
  { additionalProperties: false, default: {} },
)

export type ImageType = 'image/png' | 'image/jpeg' | 'image/webp' | 'image/svg+xml'

export interface BrandingImage {
  /** absolute path */
  file: string
  contentType: ImageType
}

export interface BrandingSettings {
  service?: string
  establishment?: string
  logo?: BrandingImage
  pscButton?: BrandingImage
}

/** The image type of these bytes, from their signature (never from the file name). */
export function imageTypeOf(bytes: Buffer): ImageType | undefined {
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png'
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg'
  if (bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP')
    return 'image/webp'
  const head = bytes
    .subarray(0, 1024)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
  if (/^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE svg[^>]*>\s*)?<svg[\s>]/i.test(head))
    return 'image/svg+xml'
  return undefined
}

const KEYS = ['logo', 'pscButton'] as const

export const branding: ConfigSection<'branding'> = {
  check(raw, checks) {
    for (const key of KEYS) {
      const path = raw.branding[key]
      if (path === undefined) continue
      const read = readNamedFile(placeFile(path, checks.source), BRANDING_IMAGE_MAX_BYTES)
      if ('problem' in read) checks.error(['branding', key], read.problem)
      else if (imageTypeOf(read.bytes) === undefined)
        checks.error(['branding', key], `${path} is not a PNG, JPEG, WebP or SVG image`)
    }
  },
  convert: (raw, conversion) => ({ branding: brandingSettings(raw, conversion.source) }),
}

function brandingSettings(raw: RawConfig, configFile: string | undefined): BrandingSettings {
  const b = raw.branding
  const settings: BrandingSettings = {}
  if (b.service !== undefined) settings.service = b.service
  if (b.establishment !== undefined) settings.establishment = b.establishment
  for (const key of KEYS) {
    const path = b[key]
    if (path === undefined) continue
    const file = placeFile(path, configFile)
    const read = readNamedFile(file, BRANDING_IMAGE_MAX_BYTES)
    // the check passed: the file was readable a moment ago
    const contentType = 'bytes' in read ? imageTypeOf(read.bytes) : undefined
    if (contentType !== undefined) settings[key] = { file, contentType }
  }
  return settings
}
