// The audit events' one description: the TypeScript types (Static), the validation used in tests and
// the published JSON Schema (docs/audit-events.schema.json, regenerated with
//   npx tsx src/audit/event-schema.ts > docs/audit-events.schema.json
// and checked for drift by test/audit/trail.test.ts). The schemas of each kind of event are in
// event-schemas/; this file joins them. Bump AUDIT_SCHEMA_VERSION on any change a
// reader of old files must know about (a renamed or removed field, a changed meaning); adding an
// optional field or a new enum value keeps the version.
import { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox'

import { AccessEventSchema } from './event-schemas/access-event-schema.js'
import {
  ChainFields,
  ChainHeadSchema,
  ChainStartSchema,
  GapEventSchema,
  RetentionEventSchema,
} from './event-schemas/chain-line-schemas.js'
import { AdminEventSchema, ConfigEventSchema, WorkerEventSchema } from './event-schemas/operation-event-schemas.js'
import {
  CharterEventSchema,
  CibaEventSchema,
  LoginEventSchema,
  LogoutEventSchema,
  SessionEventSchema,
} from './event-schemas/session-event-schemas.js'
import { AUDIT_SCHEMA_VERSION } from './schema-version.js'

export { AUDIT_SCHEMA_VERSION }
export {
  AccessEventSchema,
  AdminEventSchema,
  ChainFields,
  ChainHeadSchema,
  ChainStartSchema,
  CharterEventSchema,
  CibaEventSchema,
  ConfigEventSchema,
  GapEventSchema,
  LoginEventSchema,
  LogoutEventSchema,
  RetentionEventSchema,
  SessionEventSchema,
  WorkerEventSchema,
}
// What the gateway's rooms emit; gap events are written by the outputs themselves (queued-sink.ts), retention events by audit/retention.ts,
// worker events by the cluster's primary (cluster/primary.ts).
export const AuditEventSchema = Type.Union([
  AccessEventSchema,
  LoginEventSchema,
  LogoutEventSchema,
  SessionEventSchema,
  ConfigEventSchema,
  CibaEventSchema,
  CharterEventSchema,
  AdminEventSchema,
  WorkerEventSchema,
])

export type AccessEvent = Static<typeof AccessEventSchema>
export type LoginEvent = Static<typeof LoginEventSchema>
export type LogoutEvent = Static<typeof LogoutEventSchema>
export type SessionEvent = Static<typeof SessionEventSchema>
export type ConfigEvent = Static<typeof ConfigEventSchema>
export type CibaEvent = Static<typeof CibaEventSchema>
export type CharterEvent = Static<typeof CharterEventSchema>
export type AdminEvent = Static<typeof AdminEventSchema>
export type WorkerEvent = Static<typeof WorkerEventSchema>
export type AuditEvent = Static<typeof AuditEventSchema>
export type ChainStart = Static<typeof ChainStartSchema>
export type GapEvent = Static<typeof GapEventSchema>
export type RetentionEvent = Static<typeof RetentionEventSchema>
export type ChainHead = Static<typeof ChainHeadSchema>

/** Every kind of line an output writes: the events, and the chain's own markers. */
export const AUDIT_LINE_SCHEMAS: TObject[] = [
  AccessEventSchema,
  LoginEventSchema,
  LogoutEventSchema,
  SessionEventSchema,
  ConfigEventSchema,
  CibaEventSchema,
  CharterEventSchema,
  RetentionEventSchema,
  AdminEventSchema,
  WorkerEventSchema,
  GapEventSchema,
  ChainStartSchema,
  ChainHeadSchema,
]

/** A line as written: the event, plus "log" (every output) and the chain fields (the file). */
function asLine(event: TObject): TObject {
  return Type.Object(
    { ...Type.Partial(Type.Object(ChainFields)).properties, ...event.properties },
    { additionalProperties: false, description: event.description },
  )
}

export function auditEventsJsonSchema(): object {
  const plain = (s: TSchema) => JSON.parse(JSON.stringify(s)) as object
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://github.com/psc-gateway/psc-gateway/docs/audit-events.schema.json',
    title: `psc-gateway audit line, version ${AUDIT_SCHEMA_VERSION}`,
    description:
      'One JSON object per line (file, stdout) or per syslog message. Every line has "log":"audit"; lines of the chained file add seq, kid, prev and mac (the hash chain, see docs/audit.md).',
    oneOf: AUDIT_LINE_SCHEMAS.map((s) => plain(asLine(s))),
  }
}

export function auditEventsJsonSchemaText(): string {
  return `${JSON.stringify(auditEventsJsonSchema(), null, 2)}\n`
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(auditEventsJsonSchemaText())
}
