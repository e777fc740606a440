// The schemas of the events of the gateway's operation: the admin session API used, and the
// configuration in force changed (or a change refused), a worker process of serve ended or restarted.
import { Type } from '@sinclair/typebox'

import { Common, object, OptionalRequestFacts, Str } from './schema-parts.js'

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
