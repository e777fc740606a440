// The schemas of the lines the audit outputs write for themselves, not for an event of the
// gateway's rooms: lost events (gap), files removed by the retention, the chain head and start,
// and the chain fields every line of the file carries.
import { Type } from '@sinclair/typebox'

import { Common, object, Str } from './schema-parts.js'

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
