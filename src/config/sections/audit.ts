// audit: where audit events go and what happens when the output cannot keep up.
import { Type } from '@sinclair/typebox'
import type { ConfigSection } from '../checks.js'
import { withMs } from '../duration-keys.js'
import { Duration } from '../formats.js'
import { checkAuditSettings, checkDeployment, DEFAULT_SYSLOG_PORTS } from '../audit-checks.js'
import { checkAuditRetention } from '../audit-retention-checks.js'
import { RETENTION_PATTERN } from '../../audit/retention-period.js'

export const AuditSchema = Type.Object(
  {
    stdout: Type.Boolean({
      default: true,
      description: 'Audit events on stdout, one JSON line each, marked "log":"audit"',
    }),
    file: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Also append audit events to this file, hash-chained (needs hmacKey); reopened on SIGUSR2 and when logrotate moves it',
      }),
    ),
    hmacKey: Type.Optional(
      Type.String({
        minLength: 32,
        description:
          'Key of the HMAC-SHA256 chain of the audit file (at least 32 characters); keep it out of the file: ${AUDIT_HMAC_KEY}',
      }),
    ),
    onBackpressure: Type.Union([Type.Literal('block'), Type.Literal('drop')], {
      default: 'block',
      description:
        'When the audit output cannot keep up: block (requests wait, nothing is lost) or drop (events are counted and lost)',
    }),
    maxQueuedEvents: Type.Integer({
      minimum: 1,
      default: 10000,
      description: 'Audit events held in memory before onBackpressure applies',
    }),
    includeQuery: Type.Boolean({
      default: false,
      description: "Write the query string of proxied requests (never for the gateway's own endpoints)",
    }),
    // --- write failures, chain head, SIEM ---
    writeWait: Duration(
      {
        default: '5s',
        description:
          'While the audit trail cannot be written (disk full, syslog down in block mode), how long a new request waits before it gets 503',
      },
      { timer: true },
    ),
    shutdownWait: Duration(
      {
        default: '10s',
        description:
          'On shutdown, how long to keep trying to write queued audit events; what is left is counted on stderr and the exit code is 1',
      },
      { timer: true },
    ),
    headEvery: Duration(
      {
        default: '1m',
        description:
          "How often the chain head (seq and mac of the file's last line) is sent to the other outputs (stdout, syslog) and the operational log, for audit verify --expect-head",
      },
      { timer: true },
    ),
    // --- retention of the audit files ---
    retention: Type.Optional(
      Type.String({
        pattern: RETENTION_PATTERN,
        description:
          'How long the audit files are kept, e.g. "12 months" or "400 days": rotated files whose first event is older are removed by the gateway (at start, on SIGUSR2, and every hour), each removal audited. Needs audit.file and audit.rotatedEvery',
      }),
    ),
    rotatedEvery: Type.Optional(
      Duration({
        description:
          "How often logrotate (or the platform) rotates audit.file, e.g. 1d for logrotate's daily: the live file holds at most this much, and the gateway cannot remove it",
      }),
    ),
    syslog: Type.Optional(
      Type.Object(
        {
          transport: Type.Union([Type.Literal('tls'), Type.Literal('tcp'), Type.Literal('udp'), Type.Literal('relp')], {
            default: 'tls',
            description:
              "tls: RFC 5425 (TCP with TLS, octet-counted frames); tcp: the same without TLS (a local relay only); udp: RFC 5426 (may lose messages without trace); relp: RELP, rsyslog's imrelp (each message acknowledged: nothing lost when the collector stops; plain TCP, a local relay only)",
          }),
          host: Type.String({ minLength: 1, description: 'The syslog server (a SIEM collector or a relay)' }),
          port: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: 65535,
              description: 'Default 6514 for tls, 514 for tcp and udp, 2514 for relp',
            }),
          ),
          caFile: Type.Optional(
            Type.String({
              minLength: 1,
              description: "tls: CA bundle (PEM) that signed the server's certificate (default: the system CAs)",
            }),
          ),
          certFile: Type.Optional(
            Type.String({ minLength: 1, description: 'tls: client certificate (PEM), when the server asks for one' }),
          ),
          keyFile: Type.Optional(
            Type.String({ minLength: 1, description: "tls: the client certificate's private key (PEM)" }),
          ),
          serverName: Type.Optional(
            Type.String({
              minLength: 1,
              description: "tls: the name expected in the server's certificate (default: host)",
            }),
          ),
          facility: Type.Integer({
            minimum: 0,
            maximum: 23,
            default: 13,
            description: 'Syslog facility number (13: log audit; 10: authpriv)',
          }),
          appName: Type.String({
            pattern: '^[!-~]{1,48}$',
            default: 'psc-gateway',
            description: 'APP-NAME of the messages',
          }),
          hostname: Type.Optional(
            Type.String({
              pattern: '^[!-~]{1,255}$',
              description: "HOSTNAME of the messages (default: the machine's name)",
            }),
          ),
          onBackpressure: Type.Union([Type.Literal('block'), Type.Literal('drop')], {
            default: 'block',
            description:
              'When syslog cannot keep up or is unreachable: block (requests wait, then 503) or drop (events counted, a gap event is sent when it can)',
          }),
          maxQueuedEvents: Type.Integer({ minimum: 1, default: 10000 }),
        },
        {
          additionalProperties: false,
          description: 'Also send each audit event to a syslog server (RFC 5424, one JSON event per message)',
        },
      ),
    ),
  },
  { additionalProperties: false, default: {} },
)

export const audit: ConfigSection<'audit'> = {
  check(raw, checks) {
    // a file is only worth keeping if it is tamper-evident
    if (raw.audit.file !== undefined && raw.audit.hmacKey === undefined) {
      checks.error(
        ['audit', 'file'],
        'audit.file needs audit.hmacKey, the key of the hash chain (e.g. hmacKey: ${AUDIT_HMAC_KEY})',
      )
    }
    const report = (path: string[], message: string) => checks.error(path, message)
    checkAuditSettings(raw, report)
    checkDeployment(raw, report)
    checkAuditRetention(raw, checks)
  },
  convert: (raw) => {
    const audit = withMs(AuditSchema, raw.audit)
    if (audit.syslog !== undefined && audit.syslog.port === undefined)
      audit.syslog = { ...audit.syslog, port: DEFAULT_SYSLOG_PORTS[audit.syslog.transport] }
    return { audit }
  },
}
