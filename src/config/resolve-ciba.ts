// psc.ciba (issue 12): the checks that involve several keys, and the resolved settings.
import type { RawConfig } from './schema.js'
import type { CibaSettings } from './types.js'

type Err = (path: string[], message: string, atKey?: boolean) => void
type Ms = (path: string[], text: string) => number

export function resolveCiba(raw: RawConfig, ms: Ms, err: Err): CibaSettings {
  const c = raw.psc.ciba
  const at = (...k: string[]) => ['psc', 'ciba', ...k]
  const l = c.limits
  const settings: CibaSettings = {
    enabled: c.enabled,
    mode: c.mode,
    hosts: Object.fromEntries(Object.entries(c.hosts).map(([h, m]) => [h.toLowerCase(), m])),
    routes: { ...c.routes },
    channel: c.channel,
    bindingMessage: c.bindingMessage,
    limits: {
      perIdNat: { max: l.perIdNat.max, windowMs: ms(at('limits', 'perIdNat', 'window'), l.perIdNat.window) },
      perClient: { max: l.perClient.max, windowMs: ms(at('limits', 'perClient', 'window'), l.perClient.window) },
      cooldownAfterDenialMs: ms(at('limits', 'cooldownAfterDenial'), l.cooldownAfterDenial),
      maxPending: l.maxPending
    }
  }
  if (!c.enabled) return settings
  // The practitioner must recognise the notification: the waiting page names the service as PSC does.
  if (raw.psc.serviceName === undefined) {
    err(['psc', 'ciba', 'enabled'], 'CIBA needs psc.serviceName, the dénomination registered with ANS (shown in the e-CPS notification and on the waiting page)')
  }
  const names = new Set(raw.routes.map((r) => r.name))
  for (const name of Object.keys(c.routes)) {
    if (!names.has(name)) err(at('routes', name), `unknown route "${name}" (declared routes: ${[...names].join(', ')})`, true)
  }
  return settings
}
