// The one description of the configuration file: TypeScript types (Static, and types.ts' derived
// GatewayConfig), validation (load.ts) and the published JSON Schema (`psc-gateway schema`) all
// come from these definitions. Each section's schema lives in sections/<section>.ts, next to its
// validator and its converter; this file puts them together in the order the JSON Schema lists them.
import { Type, type Static } from '@sinclair/typebox'
import { serverSchema } from './sections/server.js'
import { PscSchema } from './sections/psc.js'
import { SessionSchema } from './sections/session.js'
import { UpstreamsSchema } from './sections/upstreams.js'
import { RoutesSchema } from './sections/routes.js'
import { HeadersSchema } from './sections/headers.js'
import { LifecycleSchema } from './sections/lifecycle.js'
import { LimitsSchema } from './sections/limits.js'
import { AuditSchema } from './sections/audit.js'
import { LogSchema } from './sections/log.js'
import { AssertionSchema } from './sections/assertion.js'
import { AccountsSchema } from './sections/accounts.js'
import { StructuresSchema } from './sections/structure-sets.js'
import { CharterSchema } from './sections/charter.js'
import { BrandingSchema } from './sections/branding.js'
import { DeclarationSchema } from './sections/declaration.js'
import { WorkersSchema } from './sections/workers.js'

export { IDENTITY_FIELDS, DEFAULT_IDENTITY_HEADERS, type IdentityField } from './sections/headers.js'
export type { UpstreamConfig } from './sections/upstreams.js'
export type { StructureSetConfig } from './sections/structure-sets.js'

export const ConfigSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    ...serverSchema,
    workers: WorkersSchema,
    psc: PscSchema,
    session: SessionSchema,
    upstreams: UpstreamsSchema,
    routes: RoutesSchema,
    headers: HeadersSchema,
    lifecycle: LifecycleSchema,
    limits: LimitsSchema,
    audit: AuditSchema,
    assertion: AssertionSchema,
    log: LogSchema,
    // establishments and local accounts
    structures: Type.Optional(StructuresSchema),
    accounts: Type.Optional(AccountsSchema),
    // the IT charter and the login page's branding
    charter: Type.Optional(CharterSchema),
    branding: BrandingSchema,
    // what the Datapass request asks (psc-gateway raccordement)
    declaration: Type.Optional(DeclarationSchema),
  },
  { additionalProperties: false },
)

/** The configuration as written in YAML, after defaults are applied. */
export type RawConfig = Static<typeof ConfigSchema>
export type RouteConfig = RawConfig['routes'][number]
export type AccessConfig = RouteConfig['access']
