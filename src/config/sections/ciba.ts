// psc.ciba and psc.serviceName: login by a push to the practitioner's e-CPS app. A block
// of its own, plugged into the psc section (sections/psc.ts).
import { Type, type Static } from '@sinclair/typebox'
import type { Checks } from '../checks.js'
import { withMs, type WithMs } from '../duration-keys.js'
import { Duration } from '../formats.js'
import type { RawConfig } from '../schema.js'

const cibaMode = (extra: object = {}) =>
  Type.Union([Type.Literal('redirect'), Type.Literal('ciba'), Type.Literal('both')], {
    description:
      'redirect: the usual Pro Santé Connect login; ciba: only the e-CPS notification; both: the practitioner chooses',
    ...extra,
  })
const cibaLimit = (max: number, window: string, what: string) =>
  Type.Object(
    {
      max: Type.Integer({ minimum: 1, default: max, description: `Most CIBA requests per window ${what}` }),
      window: Duration({ default: window }),
    },
    { additionalProperties: false, default: {} },
  )

export const CibaSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: false,
      description: 'Offer the e-CPS notification (CIBA); ANS must have enabled CIBA for this client',
    }),
    mode: cibaMode({ default: 'both' }),
    hosts: Type.Record(Type.String({ pattern: '^[A-Za-z0-9.-]+$' }), cibaMode(), {
      default: {},
      additionalProperties: false,
      description: 'Mode per host name (overrides mode)',
    }),
    routes: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }), cibaMode(), {
      default: {},
      additionalProperties: false,
      description: 'Mode per route name (overrides hosts and mode)',
    }),
    channel: Type.Union([Type.Literal('MOBILE'), Type.Literal('CARD')], {
      default: 'MOBILE',
      description: "PSC's channel parameter: MOBILE (e-CPS app) or CARD",
    }),
    bindingMessage: Type.Union([Type.Literal('two-digits'), Type.Literal('four-digits')], {
      default: 'two-digits',
      description:
        'The code shown on the waiting page and on the phone, random per request: two digits (as PSC shows it) or four',
    }),
    limits: Type.Object(
      {
        perIdNat: cibaLimit(3, '10m', 'sent to one national id (push bombing)'),
        perClient: cibaLimit(10, '10m', 'from one client address'),
        cooldownAfterDenial: Duration(
          {
            default: '5m',
            description: 'After a practitioner refuses a request, no new one is sent to them for this long',
          },
          { timer: true },
        ),
        maxPending: Type.Integer({
          minimum: 1,
          default: 1000,
          description:
            'Most CIBA requests waiting at once in one gateway process: each worker (workers:) and each replica polls PSC for its own, up to this many',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
)

export const ServiceNameSchema = Type.String({
  minLength: 1,
  maxLength: 100,
  description:
    'The dénomination registered with ANS: shown in the e-CPS notification, and on the waiting page so that the practitioner recognises it',
})

export type CibaSettings = WithMs<Static<typeof CibaSchema>>
export type CibaMode = CibaSettings['mode']

export function checkCiba(raw: RawConfig, checks: Checks): void {
  const c = raw.psc.ciba
  if (!c.enabled) return
  // The practitioner must recognise the notification: the waiting page names the service as PSC does.
  if (raw.psc.serviceName === undefined) {
    checks.error(
      ['psc', 'ciba', 'enabled'],
      'CIBA needs psc.serviceName, the dénomination registered with ANS (shown in the e-CPS notification and on the waiting page)',
    )
  }
  const names = new Set(raw.routes.map((r) => r.name))
  for (const name of Object.keys(c.routes)) {
    if (!names.has(name))
      checks.error(
        ['psc', 'ciba', 'routes', name],
        `unknown route "${name}" (declared routes: ${[...names].join(', ')})`,
        true,
      )
  }
}

export function convertCiba(raw: RawConfig['psc']['ciba']): CibaSettings {
  const settings = withMs(CibaSchema, raw)
  // host names are compared in lower case
  return {
    ...settings,
    hosts: Object.fromEntries(Object.entries(settings.hosts).map(([h, m]) => [h.toLowerCase(), m])),
  }
}
