// The configuration the rest of the gateway reads: the YAML after validation, defaults, PSC
// environment resolution and unit conversion (durations in ms, absolute URLs). Derived from the
// schema's types, so a key added to the schema is in GatewayConfig too: a section without a
// conversion of its own comes through WithMs (durations become `<key>Ms`); the others say what
// their conversion changes (sections/<section>.ts). Built by convert.ts.
import type { RawConfig } from './schema.js'
import type { WithMs } from './duration-keys.js'
import type { ServerSettings } from './sections/server.js'
import type { PscSettings } from './sections/psc.js'
import type { SessionSettings } from './sections/session.js'
import type { UpstreamSettings } from './sections/upstreams.js'
import type { RouteSettings } from './sections/routes.js'
import type { HeaderSettings } from './sections/headers.js'
import type { AccountsSettings } from './sections/accounts.js'
import type { StructureSetConfig } from './sections/structure-sets.js'
export type { AccountsSettings, LdapSettings } from './sections/accounts.js'
import type { CharterSettings } from './sections/charter.js'
import type { BrandingImage, BrandingSettings } from './sections/branding.js'
export type { CharterSettings, BrandingImage, BrandingSettings }

export type { IdentityHeader } from './sections/headers.js'
export type { CibaMode, CibaSettings } from './sections/ciba.js'
export type { UpstreamSettings, PscSettings, SessionSettings, RouteSettings, HeaderSettings, ServerSettings }

/** Sections whose converted form is more than WithMs of what was written. */
type Converted =
  | keyof ServerSettings
  | 'psc'
  | 'session'
  | 'upstreams'
  | 'routes'
  | 'headers'
  | 'structures'
  | 'accounts'
  | 'charter'
  | 'branding'

export type GatewayConfig = WithMs<Omit<RawConfig, '$schema' | Converted>> &
  ServerSettings & {
    /** the file it came from, for messages; "<embedded>" for built-in configs */
    source: string
    psc: PscSettings
    session: SessionSettings
    upstreams: Record<string, UpstreamSettings>
    routes: RouteSettings[]
    headers: HeaderSettings
    /** local accounts of the protected application; absent: identity headers only */
    accounts?: AccountsSettings
    /** the named establishments (top-level `structures`), each with its label; the routes hold their own copies */
    structures: Record<string, StructureSetConfig>
    /** the IT charter to accept once per version; absent: none */
    charter?: CharterSettings
    /** what the login page says about the service and the establishment */
    branding: BrandingSettings
  }

export type { OutboundProxySetting, PscOutboundSettings, PscOnboardingSettings } from './psc-production-types.js'
