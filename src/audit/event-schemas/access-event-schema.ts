// The access event's schema: one per HTTP request, the decision and its outcome.
import { Type } from '@sinclair/typebox'

import { Common, object, RequestFacts, Str } from './schema-parts.js'

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
