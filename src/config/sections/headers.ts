// headers: the identity headers sent upstream, how their values are encoded, and which
// client-sent headers are removed.
import { Type, type Static } from '@sinclair/typebox'
import type { ConfigSection } from '../checks.js'
import { HeaderName } from '../formats.js'
import type { RawConfig } from '../schema.js'

export const IDENTITY_FIELDS = [
  'idNat',
  'rpps',
  'sub',
  'familyName',
  'givenName',
  'civility',
  'acr',
  'authMode',
  'professionCode',
  'profession',
  'category',
  'specialty',
  'professionCodes',
  'structureId',
  'structureName',
  'structureFiness',
  // the local account (accounts:), absent when none was found
  'accountLogin',
  'accountName',
  'accountGroups',
] as const
export type IdentityField = (typeof IDENTITY_FIELDS)[number]

export const DEFAULT_IDENTITY_HEADERS: Record<string, IdentityField> = {
  'X-PSC-IdNat': 'idNat',
  'X-PSC-RPPS': 'rpps',
  'X-PSC-Family-Name': 'familyName',
  'X-PSC-Given-Name': 'givenName',
  'X-PSC-Profession-Code': 'professionCode',
  'X-PSC-Profession': 'profession',
  'X-PSC-Category': 'category',
  'X-PSC-Specialty': 'specialty',
  'X-PSC-Acr': 'acr',
  'X-PSC-Auth-Mode': 'authMode',
}

export const HeadersSchema = Type.Object(
  {
    identity: Type.Record(
      HeaderName,
      Type.Union([Type.Enum(Object.fromEntries(IDENTITY_FIELDS.map((f) => [f, f]))), Type.Literal(false)]),
      {
        default: {},
        additionalProperties: false,
        description: 'Header name → identity field; merged over the defaults; false removes a default header',
      },
    ),
    encoding: Type.Union([Type.Literal('percent'), Type.Literal('latin1')], {
      default: 'percent',
      description: 'How non-ASCII values travel: percent-encoded UTF-8 (lossless) or ISO-8859-1 bytes',
    }),
    stripPrefixes: Type.Array(Type.String({ pattern: '^[A-Za-z0-9_-]+$' }), {
      default: ['X-PSC-'],
      description: 'Client-sent headers starting with these (any case, "_" for "-") are removed',
    }),
    requestId: Type.String({ ...HeaderName, default: 'X-Request-Id' }),
  },
  { additionalProperties: false, default: {} },
)

export interface IdentityHeader {
  /** header name as configured, e.g. "X-PSC-IdNat" */
  header: string
  field: IdentityField
}

export type HeaderSettings = Omit<Static<typeof HeadersSchema>, 'identity'> & {
  /** the defaults, then the YAML map: false removes, a field adds or replaces */
  identity: IdentityHeader[]
}

interface Merged {
  identity: Map<string, IdentityHeader>
  duplicates: Array<[string, string]>
  removesNothing: string[]
}

// Keyed by lower-case name: header names are case-insensitive.
function mergeIdentityHeaders(written: RawConfig['headers']['identity']): Merged {
  const identity = new Map<string, IdentityHeader>()
  for (const [header, field] of Object.entries(DEFAULT_IDENTITY_HEADERS))
    identity.set(header.toLowerCase(), { header, field })
  const seen = new Map<string, string>()
  const merged: Merged = { identity, duplicates: [], removesNothing: [] }
  for (const [header, field] of Object.entries(written)) {
    const lower = header.toLowerCase()
    const previous = seen.get(lower)
    if (previous !== undefined) {
      merged.duplicates.push([header, previous])
      continue
    }
    seen.set(lower, header)
    if (field === false) {
      if (!identity.delete(lower)) merged.removesNothing.push(header)
    } else {
      identity.set(lower, { header, field: field as IdentityField })
    }
  }
  return merged
}

export const headers: ConfigSection<'headers'> = {
  check(raw, checks) {
    const merged = mergeIdentityHeaders(raw.headers.identity)
    for (const [header, previous] of merged.duplicates) {
      checks.error(
        ['headers', 'identity', header],
        `header "${header}" is the same as "${previous}" (header names are case-insensitive)`,
        true,
      )
    }
    for (const header of merged.removesNothing) {
      checks.warn(['headers', 'identity', header], `"${header}" is not a default header: "false" removes nothing`, true)
    }
    if (merged.identity.has(raw.headers.requestId.toLowerCase())) {
      checks.error(['headers', 'requestId'], `"${raw.headers.requestId}" is also an identity header`)
    }
  },
  convert(raw) {
    return {
      headers: {
        ...structuredClone(raw.headers),
        identity: [...mergeIdentityHeaders(raw.headers.identity).identity.values()],
      },
    }
  },
}
