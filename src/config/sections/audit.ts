// audit: where audit events go and what happens when the output cannot keep up.
import { Type } from '@sinclair/typebox'
import type { ConfigSection } from '../checks.js'
import { withMs } from '../durationKeys.js'

export const AuditSchema = Type.Object({
  stdout: Type.Boolean({ default: true, description: 'Audit events on stdout, one JSON line each, marked "log":"audit"' }),
  file: Type.Optional(Type.String({ minLength: 1, description: 'Also append audit events to this file, hash-chained (needs hmacKey); reopened on SIGUSR2 and when logrotate moves it' })),
  hmacKey: Type.Optional(Type.String({ minLength: 32, description: 'Key of the HMAC-SHA256 chain of the audit file (at least 32 characters); keep it out of the file: ${AUDIT_HMAC_KEY}' })),
  onBackpressure: Type.Union([Type.Literal('block'), Type.Literal('drop')], {
    default: 'block',
    description: 'When the audit output cannot keep up: block (requests wait, nothing is lost) or drop (events are counted and lost)'
  }),
  maxQueuedEvents: Type.Integer({ minimum: 1, default: 10000, description: 'Audit events held in memory before onBackpressure applies' }),
  includeQuery: Type.Boolean({ default: false, description: 'Write the query string of proxied requests (never for the gateway\'s own endpoints)' })
}, { additionalProperties: false, default: {} })

export const audit: ConfigSection<'audit'> = {
  check (raw, checks) {
    // a file is only worth keeping if it is tamper-evident
    if (raw.audit.file !== undefined && raw.audit.hmacKey === undefined) {
      checks.error(['audit', 'file'], 'audit.file needs audit.hmacKey, the key of the hash chain (e.g. hmacKey: ${AUDIT_HMAC_KEY})')
    }
  },
  convert: (raw) => ({ audit: withMs(AuditSchema, raw.audit) })
}
