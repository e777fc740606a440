// The version every audit line carries (`"v"`). Its own file: the chain and the audit commands need
// the number without loading the schema's definitions (TypeBox) that docs/audit-events.schema.json
// is generated from.
export const AUDIT_SCHEMA_VERSION = 1
