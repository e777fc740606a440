// Run as a process of its own: writes one event to the audit file given as argument, then returns
// without closing anything. The process must end by itself, with the event in the file.
import { createAuditOutput } from '../../src/audit/sinks.js'

const out = createAuditOutput({
  stdout: false,
  file: process.argv[2]!,
  hmacKey: process.env.AUDIT_HMAC_KEY,
  onBackpressure: 'block',
  includeQuery: false,
  maxQueuedEvents: 100,
})
out.write({
  v: 1,
  time: new Date().toISOString(),
  event: 'access',
  decision: 'allow',
  requestId: 'the-only-one',
  client: '10.0.0.1',
  method: 'GET',
  path: '/x',
  status: 200,
  durationMs: 1,
})
