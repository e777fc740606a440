// The audit events' one description: the TypeScript types (Static), the validation used in tests and
// the published JSON Schema (docs/audit-events.schema.json, regenerated with
//   npx tsx src/audit/event-schema.ts > docs/audit-events.schema.json
// and checked for drift by test/audit/trail.test.ts). Bump AUDIT_SCHEMA_VERSION on any change a
// reader of old files must know about (a renamed or removed field, a changed meaning); adding an
// optional field or a new enum value keeps the version.
import { Type, type Static, type TObject, type TProperties, type TSchema } from '@sinclair/typebox'

import { AUDIT_SCHEMA_VERSION } from './schema-version.js'

export { AUDIT_SCHEMA_VERSION }

const Str = (description: string) => Type.String({ description })

/** What every event carries, whatever happened. */
const Common = {
  v: Type.Literal(AUDIT_SCHEMA_VERSION, { description: 'Schema version of this event' }),
  time: Type.String({
    pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$',
    description: 'When it happened, ISO 8601 UTC with milliseconds',
  }),
  worker: Type.Optional(
    Type.Integer({
      minimum: 1,
      description:
        'With workers > 1: the worker process that handled it (1 to workers); absent for what the primary itself wrote',
    }),
  ),
}

/** What an event caused by an HTTP request carries (all of it, once the response is done). */
const RequestFacts = {
  requestId: Str('The request id (also sent upstream as X-Request-Id)'),
  client: Str('Client address as seen through the trusted proxies'),
  userAgent: Type.Optional(Str('User-Agent header as sent by the client')),
  session: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9_-]{16}$',
      description: 'Reference of the session: a hash of its id, never the id',
    }),
  ),
  idNat: Type.Optional(Str('National identifier of the practitioner, when known')),
  profession: Type.Optional(Str('TRE_G15 profession code of the first exercice, when known')),
  route: Type.Optional(Str('Route name; "gateway:<endpoint>" for the gateway\'s own endpoints')),
  method: Str('HTTP method'),
  path: Str('Normalised path, without the query string ("(invalid)" when it could not be normalised)'),
  query: Type.Optional(Str("The query string, only with audit.includeQuery (never for the gateway's own endpoints)")),
  status: Type.Integer({ description: 'HTTP status of the response' }),
  durationMs: Type.Number({ description: 'Time from request to response, in milliseconds' }),
  aborted: Type.Optional(Type.Literal(true, { description: 'The client went away before the response was complete' })),
}
const OptionalRequestFacts = Type.Partial(Type.Object(RequestFacts)).properties

const object = <T extends TProperties>(props: T, description: string) =>
  Type.Object(props, { additionalProperties: false, description })

export const AccessEventSchema = object(
  {
    ...Common,
    event: Type.Literal('access'),
    decision: Type.Union([Type.Literal('allow'), Type.Literal('deny'), Type.Literal('login'), Type.Literal('reject')], {
      description:
        'allow: forwarded or served; deny: refused by the rule named in "route" (403); login: login needed (302/401/503); ' +
        'reject: refused before any rule (400 bad path, 404 no route, error)',
    }),
    reason: Type.Optional(Str('Why it was denied or rejected: an outcome code PSC_ERR_* (see docs/audit.md)')),
    detail: Type.Optional(
      Str('Technical detail of the refusal, e.g. "profession 21 not in [10]" (English, never a token or a secret)'),
    ),
    ...RequestFacts,
    profession: Type.Optional(
      Str(
        'TRE_G15 profession code of the exercice the request was allowed for ("exercice"); of the first exercice for any other decision',
      ),
    ),
    exercice: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          'An allowed request: the exercice it was allowed for, and which the application was told about (index in PSC order, 0 = first)',
      }),
    ),
    structure: Type.Optional(
      Str(
        'An allowed request: the structure of that exercice the application was told about (FINESS site, else SIRET, else technical id)',
      ),
    ),
    configHash: Type.Optional(
      Type.String({
        pattern: '^[0-9a-f]{12}$',
        description: 'Short hash of the configuration in force when the request was decided (see the config events)',
      }),
    ),
  },
  'One per HTTP request: the access decision and its outcome',
)

export const LoginEventSchema = object(
  {
    ...Common,
    event: Type.Literal('login'),
    outcome: Type.Union([Type.Literal('started'), Type.Literal('succeeded'), Type.Literal('failed')]),
    reason: Type.Optional(Str('Why the login failed: an outcome code PSC_ERR_LOGIN_*')),
    detail: Type.Optional(Str('Technical detail of the failure, e.g. what PSC answered')),
    acr: Type.Optional(Str('Authentication level PSC asserted (eidas1, ...)')),
    authMode: Type.Optional(Str('How the practitioner authenticated (CARD, MOBILE, ...)')),
    loginMethod: Type.Optional(
      Type.Union([Type.Literal('redirect'), Type.Literal('ciba')], {
        description: 'redirect: through the PSC login page (absent in older events); ciba: by a push to the e-CPS app',
      }),
    ),
    account: Type.Optional(
      Str(
        'Local account found at login (accounts:): its login, "none" when there is none, "unavailable" when the directory did not answer, "duplicate" when several entries match, "disabled" when the Active Directory account is disabled',
      ),
    ),
    ...RequestFacts,
  },
  'A PSC login: started (sent to PSC), succeeded, failed',
)

export const CibaEventSchema = object(
  {
    ...Common,
    event: Type.Literal('ciba'),
    outcome: Type.Union(
      [
        Type.Literal('requested'),
        Type.Literal('refused'),
        Type.Literal('approved'),
        Type.Literal('denied'),
        Type.Literal('expired'),
        Type.Literal('unknown_id'),
        Type.Literal('failed'),
        Type.Literal('cancelled'),
      ],
      {
        description:
          'requested: a push was sent to the practitioner; refused: not sent (abuse limits, bad input); approved/denied: the ' +
          "practitioner's answer; expired: no answer in time; unknown_id: PSC knows no such practitioner; failed: PSC error or unreachable; " +
          'cancelled: given up in the browser',
      },
    ),
    ...OptionalRequestFacts,
    idNat: Str('The national id the push was (or would have been) sent to'),
    client: Str('Client address that asked for it, as seen through the trusted proxies'),
    cibaRequest: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9_-]{16}$',
        description: 'Reference of the CIBA request (a hash, never its id): ties the outcome to the request',
      }),
    ),
    reason: Type.Optional(Str('Details: which limit applied, what PSC answered')),
  },
  'A CIBA request (login by a push to the e-CPS app): who was asked, from where, and how it ended',
)

export const LogoutEventSchema = object(
  {
    ...Common,
    event: Type.Literal('logout'),
    cause: Type.Union(
      [
        Type.Literal('user'),
        Type.Literal('backchannel'),
        Type.Literal('idle-expired'),
        Type.Literal('absolute-expired'),
        Type.Literal('revoked'),
      ],
      {
        description:
          'user: the practitioner logged out; backchannel: PSC said so; idle-expired/absolute-expired: timeouts; revoked: PSC refused to renew the session, or an operator ended it',
      },
    ),
    sessionsEnded: Type.Optional(
      Type.Integer({ description: 'Back-channel: how many local sessions the logout ended' }),
    ),
    reason: Type.Optional(Str('Details, e.g. why PSC refused to renew the session')),
    sessionDurationMs: Type.Optional(
      Type.Integer({ minimum: 0, description: 'How long the session lasted, from login to its end, in milliseconds' }),
    ),
    ...OptionalRequestFacts,
  },
  "A practitioner's session ended as a logout",
)

export const SessionEventSchema = object(
  {
    ...Common,
    event: Type.Literal('session'),
    outcome: Type.Union([Type.Literal('created'), Type.Literal('refreshed'), Type.Literal('ended')]),
    reason: Type.Optional(
      Str(
        'Why a session ended: logout, replaced (a new login in the same browser), idle-expired, absolute-expired, backchannel, revoked, store-lost (the session store lost it: restart, eviction, Redis flushed), admin-revoked (ended through the admin session API, see the admin event), superseded (session.onePerPractitioner: the practitioner logged in again)',
      ),
    ),
    sessionDurationMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'ended: how long the session lasted, from login to its end, in milliseconds',
      }),
    ),
    noticed: Type.Optional(
      Type.Union([Type.Literal('request'), Type.Literal('store'), Type.Literal('shutdown')], {
        description:
          'ended: noticed at a request of the practitioner, by the session store (its sweep of expired sessions: the practitioner may never come back), ' +
          'or at shutdown (store-lost: the memory store loses every live session when the gateway stops)',
      }),
    ),
    sessionsLost: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          'ended at shutdown: how many more sessions were lost than the events listing them one by one (at most 1000 are listed)',
      }),
    ),
    ...OptionalRequestFacts,
  },
  'Server-side session life',
)

export const CharterEventSchema = object(
  {
    ...Common,
    event: Type.Literal('charter'),
    outcome: Type.Literal('accepted', {
      description: 'accepted: the practitioner accepted this version of the IT charter',
    }),
    idNat: Str('National identifier of the practitioner who accepted'),
    charterVersion: Str('The version of the IT charter accepted (charter.version)'),
    ...Type.Omit(Type.Object(OptionalRequestFacts), ['idNat']).properties,
  },
  "The IT charter (charte d'utilisation du SI) accepted: who, which version; the event's time is when",
)

export const AdminEventSchema = object(
  {
    ...Common,
    event: Type.Literal('admin'),
    action: Type.Union(
      [Type.Literal('sessions-listed'), Type.Literal('session-revoked'), Type.Literal('practitioner-sessions-revoked')],
      {
        description:
          "A call to the admin listener's session API: list the live sessions, end one (by its reference) or every session of a practitioner",
      },
    ),
    outcome: Type.Union([Type.Literal('done'), Type.Literal('refused'), Type.Literal('failed')], {
      description:
        'done; refused: no or a wrong bearer token (401), or the session API is off; failed: the session store did not answer',
    }),
    by: Type.Optional(Str('Who asked: the name of the admin token (admin.tokenName); absent when refused')),
    client: Str('Address the call came from (the admin listener sees no proxy)'),
    requestId: Type.Optional(Str('The request id on the admin listener')),
    idNat: Type.Optional(Str('The practitioner asked for (filter of a list, or whose sessions were ended)')),
    session: Type.Optional(Str('session-revoked: the reference of the session asked for')),
    sessionsEnded: Type.Optional(
      Type.Array(Type.String(), {
        description: 'References of the sessions this call ended (each also has a session event)',
      }),
    ),
    sessionsListed: Type.Optional(Type.Integer({ minimum: 0, description: 'sessions-listed: how many were returned' })),
    reason: Type.Optional(Str('refused or failed: why (never the token)')),
  },
  'The security team listed or ended sessions through the admin listener',
)

export const ConfigEventSchema = object(
  {
    ...Common,
    event: Type.Literal('config'),
    outcome: Type.Union([Type.Literal('loaded'), Type.Literal('reloaded'), Type.Literal('refused')]),
    source: Str('The configuration file'),
    routes: Type.Optional(Type.Integer({ description: 'Number of routes in force' })),
    configHash: Type.Optional(
      Type.String({
        pattern: '^[0-9a-f]{12}$',
        description: 'Short hash of the configuration now in force (access events carry it)',
      }),
    ),
    changes: Type.Optional(
      Type.Object(
        {
          routesAdded: Type.Array(Type.String(), { description: 'Routes (by name) in the new configuration only' }),
          routesRemoved: Type.Array(Type.String(), { description: 'Routes (by name) in the old configuration only' }),
          routesChanged: Type.Array(Type.String(), {
            description: 'Routes whose rule (match, access, upstream, headers...) changed',
          }),
          upstreamsAdded: Type.Array(Type.String()),
          upstreamsRemoved: Type.Array(Type.String()),
          upstreamsChanged: Type.Array(Type.String(), { description: 'Upstreams whose URL or settings changed' }),
          headersChanged: Type.Boolean({ description: 'The identity headers sent upstream changed' }),
          other: Type.Array(Type.String(), {
            description: 'Other top-level sections that changed (names only, never values)',
          }),
        },
        { additionalProperties: false, description: 'reloaded: what changed' },
      ),
    ),
    reason: Type.Optional(Str('Why a reload was refused (never a secret value)')),
    clientCertificate: Type.Optional(
      Type.Object(
        {
          file: Str('The certificate file (PKCS#12, or PEM certificate) that was renewed'),
          subject: Str('Subject of the certificate now presented to PSC (refused: the one kept)'),
          issuer: Str('Its issuer'),
          serialNumber: Str('Its serial number'),
          expires: Str('When it expires, ISO 8601 UTC'),
          previousSerialNumber: Type.Optional(Str('reloaded: the serial number of the certificate it replaced')),
        },
        {
          additionalProperties: false,
          description:
            'The client certificate presented to PSC was renewed from its files (reloaded), or its changed files could not be used (refused); never the key',
        },
      ),
    ),
    // none today; there for a reload asked over HTTP
    ...OptionalRequestFacts,
  },
  'The configuration in force changed (or a change was refused)',
)

export const GapEventSchema = object(
  {
    ...Common,
    event: Type.Literal('gap'),
    lost: Type.Integer({ minimum: 1, description: 'How many events could not be written here' }),
    from: Str('When the first of them was lost'),
    to: Str('When the last of them was lost'),
    reason: Type.Union([Type.Literal('queue-full'), Type.Literal('unwritable'), Type.Literal('shutdown')], {
      description:
        'queue-full: audit.onBackpressure drop discarded them; unwritable: the output failed for longer than its queue could hold; ' +
        'shutdown: still queued when the previous process stopped (written by the next start)',
    }),
    detail: Type.Optional(Str("What made them unwritable, when known (the output's last error)")),
  },
  'Events were lost here (written in their place, chained like any line)',
)

export const RetentionEventSchema = object(
  {
    ...Common,
    event: Type.Literal('audit-retention'),
    outcome: Type.Literal('removed'),
    file: Str("The rotated audit file removed (its name, in the audit file's directory)"),
    lines: Type.Integer({ minimum: 0, description: 'How many lines it held' }),
    lastSeq: Type.Optional(Type.Integer({ minimum: 0, description: 'seq of its last chained line' })),
    lastMac: Type.Optional(
      Str('mac of its last chained line: audit verify matches it with the first file left, whose chain-start names it'),
    ),
    firstTime: Type.Optional(Str('Time of its first line, older than the retention')),
    lastTime: Type.Optional(Str('Time of its last line')),
    retention: Str('audit.retention in force, as written'),
  },
  'A rotated audit file older than audit.retention was removed by the gateway',
)

export const WorkerEventSchema = object(
  {
    ...Common,
    event: Type.Literal('worker'),
    outcome: Type.Union([Type.Literal('exited'), Type.Literal('restarted')], {
      description:
        'exited: a worker process ended without being asked (a crash, a kill); restarted: the primary started a new one in its place',
    }),
    worker: Type.Integer({ minimum: 1, description: 'The worker (1 to workers): a restarted one keeps its number' }),
    pid: Type.Integer({ description: 'Its process id' }),
    exitCode: Type.Optional(Type.Integer({ description: 'exited: its exit code, when it exited' })),
    signal: Type.Optional(Str('exited: the signal that ended it (SIGKILL, SIGSEGV, ...), when one did')),
    restarts: Type.Optional(
      Type.Integer({ minimum: 1, description: 'restarted: how many times this worker was restarted in a row' }),
    ),
    delayMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'restarted: how long the primary waited first (a crash loop waits longer)',
      }),
    ),
  },
  "One of `serve`'s worker processes (workers > 1) ended unasked, or was restarted, as the primary saw it",
)

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
])

/** The chain head, sent periodically to the outputs other than the file (stdout, syslog) so that a cut or replaced file shows. */
export const ChainHeadSchema = object(
  {
    ...Common,
    event: Type.Literal('chain-head'),
    file: Str('The chained audit file'),
    seq: Type.Integer({ minimum: 0, description: 'seq of the last line written to the file' }),
    mac: Str('mac of that line: give "seq:mac" to audit verify --expect-head'),
    kid: Str('Key id of the key that signed it'),
  },
  'The last line written to the chained file, for audit verify --expect-head',
)

/** The chain marker a file sink writes first at every file open (see src/audit/chain.ts). */
export const ChainStartSchema = object(
  {
    ...Common,
    event: Type.Literal('chain-start'),
    file: Str('The file the sink opened'),
    reason: Type.Union([Type.Literal('open'), Type.Literal('reopen'), Type.Literal('key-change')], {
      description:
        'open: process start; reopen: SIGUSR2 or rotation detected; key-change: the chain goes on under a new key (the previous line was signed by previous.kid)',
    }),
    pid: Type.Integer(),
    previous: Type.Union(
      [
        Type.Object(
          {
            seq: Type.Integer(),
            mac: Type.String(),
            kid: Type.Optional(Type.String({ description: "Key id of the previous line's key" })),
          },
          { additionalProperties: false },
        ),
        Type.Null(),
      ],
      {
        description:
          'seq and mac of the last line written before this open (in the previous file or earlier in this one); null when none is known',
      },
    ),
  },
  'Restarts the hash chain',
)

/** Fields every line of a file sink carries in addition to the event (see src/audit/chain.ts). */
export const ChainFields = {
  log: Type.Literal('audit'),
  seq: Type.Integer({ minimum: 0, description: 'Line number within the chain; 0 is the chain-start' }),
  kid: Type.String({
    pattern: '^[A-Za-z0-9_-]{8}$',
    description:
      'Key id of the key that signed the line (derived from the key, never the key): audit verify picks the key by it',
  }),
  prev: Type.String({ description: 'mac of the previous line of the chain ("" for the chain-start)' }),
  mac: Type.String({ description: 'base64url HMAC-SHA256(key, this line\'s text up to the mac field, closed by "}")' }),
}

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
