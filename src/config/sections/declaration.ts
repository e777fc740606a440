// declaration: what ANS's Datapass request asks that the rest of the configuration cannot know
// (the people involved, the expected volume, the production date), for `psc-gateway raccordement`.
// Optional: without it the sheet says what is missing. The retention it states is checked against
// what the gateway keeps (audit.retention, session.absoluteTimeout).
import { Type } from '@sinclair/typebox'
import type { ConfigSection, Checks } from '../checks.js'
import type { RawConfig } from '../schema.js'
import { parseDuration } from '../duration.js'
import { parseRetention, retentionMonths, shortestMs } from '../../audit/retention-period.js'

const Contact = (role: string) =>
  Type.Optional(
    Type.Object(
      {
        name: Type.String({ minLength: 1, description: `The ${role}: name` }),
        email: Type.String({ pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$', description: 'E-mail address' }),
        role: Type.Optional(Type.String({ minLength: 1, description: 'Their job title' })),
        phone: Type.Optional(Type.String({ minLength: 1, description: 'Telephone number' })),
      },
      { additionalProperties: false, description: `The ${role}` },
    ),
  )

export const DeclarationSchema = Type.Object(
  {
    contacts: Type.Object(
      {
        controller: Contact('data controller (responsable de traitement)'),
        dpo: Contact('data protection officer (DPO)'),
        technical: Contact('technical lead'),
      },
      { additionalProperties: false, default: {}, description: 'The people Datapass names: name, role, e-mail, phone' },
    ),
    expectedVolume: Type.Optional(
      Type.Object(
        {
          practitioners: Type.Optional(Type.Integer({ minimum: 1, description: 'Practitioners who will log in' })),
          loginsPerDay: Type.Optional(Type.Integer({ minimum: 1, description: 'Logins a day, roughly' })),
        },
        { additionalProperties: false, description: 'The expected volume Datapass asks for' },
      ),
    ),
    productionDate: Type.Optional(
      Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'Planned production date (YYYY-MM-DD)' }),
    ),
    retentionMonths: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          'How long the data are kept, in months, as stated in Datapass. With audit.retention it must be what the files keep; with audit to stdout or syslog only, the log platform keeps it',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "What ANS's Datapass request asks that the rest of the configuration cannot know (psc-gateway raccordement)",
  },
)

/** How long the Redis session store keeps its indexes (session/redis-store.ts INDEX_TTL_MS; a test keeps them equal). */
export const REDIS_INDEX_TTL_MS = 48 * 3_600_000

/** The stated retention must be what the gateway keeps: not more (files removed earlier), not less (data outlive it). */
function checkStatedRetention(raw: RawConfig, checks: Checks): void {
  const stated = raw.declaration?.retentionMonths
  const at = ['declaration', 'retentionMonths']
  const period = raw.audit.retention === undefined ? undefined : parseRetention(raw.audit.retention)
  if (stated !== undefined && period !== undefined && raw.audit.file !== undefined) {
    const kept = retentionMonths(period)
    if (stated > kept)
      checks.error(
        at,
        `Datapass would state ${stated} months, but the audit files are removed after ${raw.audit.retention} (audit.retention${checks.lineOf(['audit', 'retention'])}): state ${kept}, or keep the files longer`,
      )
    else if (stated < kept)
      checks.error(
        at,
        `Datapass would state ${stated} months, but the audit files are kept ${raw.audit.retention} (audit.retention${checks.lineOf(['audit', 'retention'])}): the data would outlive what is stated. State ${kept}, or shorten audit.retention`,
      )
  }
  if (stated !== undefined && raw.audit.file !== undefined && period === undefined)
    checks.error(
      at,
      `Datapass would state ${stated} months, but nothing removes the audit files (audit.file${checks.lineOf(['audit', 'file'])} has no audit.retention): set audit.retention and audit.rotatedEvery`,
    )
  // A session holds the practitioner's identity for its whole life: it must not outlive the statement.
  const keptMs =
    period !== undefined && raw.audit.file !== undefined
      ? shortestMs(period)
      : stated === undefined
        ? undefined
        : stated * 28 * 86_400_000
  const absolute = parseDuration(raw.session.absoluteTimeout)
  // The Redis store also keeps back-channel indexes naming the practitioner's sub for this long.
  if (keptMs !== undefined && raw.session.store.type === 'redis' && REDIS_INDEX_TTL_MS > keptMs)
    checks.error(
      ['session', 'store', 'type'],
      `the Redis session store keeps its back-channel indexes (the practitioner's sub) for 48 h, longer than the data are kept: keep them longer, or use the memory store`,
    )
  if (keptMs !== undefined && absolute !== undefined && absolute > keptMs)
    checks.error(
      ['session', 'absoluteTimeout'],
      `a session lives up to ${raw.session.absoluteTimeout}, longer than the data are kept (${period !== undefined && raw.audit.file !== undefined ? `audit.retention: ${raw.audit.retention}` : `declaration.retentionMonths: ${stated}`}): shorten the session, or keep longer`,
    )
}

export const declaration: ConfigSection<'declaration'> = {
  check: (raw, checks) => checkStatedRetention(raw, checks),
  convert: (raw) => (raw.declaration === undefined ? {} : { declaration: raw.declaration }),
}
