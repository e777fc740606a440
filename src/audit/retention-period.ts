// How long the audit files are kept (audit.retention: "12 months", "400 days"), shared by the
// configuration's checks, the removal of old files and the Datapass sheet. Months are calendar
// months, so "12 months" means the same day one year ago, as a person reads it.

export interface RetentionPeriod {
  count: number
  unit: 'months' | 'days'
  /** as written, for messages */
  text: string
}

const RETENTION = /^([1-9][0-9]{0,3}) ?(months?|mois|days?|jours?|d)$/

/** The JSON Schema pattern of audit.retention. */
export const RETENTION_PATTERN = '^[1-9][0-9]{0,3} ?(months?|mois|days?|jours?|d)$'

export function parseRetention(text: string): RetentionPeriod | undefined {
  const m = RETENTION.exec(text.trim())
  if (m === null) return undefined
  const unit = m[2]!.startsWith('mo') ? 'months' : 'days'
  return { count: Number(m[1]), unit, text }
}

/** The oldest time a line may have at `now`: anything before it has outlived the retention. */
export function retentionCutoff(r: RetentionPeriod, now: number): number {
  if (r.unit === 'days') return now - r.count * 86_400_000
  const d = new Date(now)
  d.setUTCMonth(d.getUTCMonth() - r.count)
  return d.getTime()
}

/** The shortest the period can be, in ms (months of 28 days): what a rotation period is compared with. */
export function shortestMs(r: RetentionPeriod): number {
  return r.count * (r.unit === 'days' ? 1 : 28) * 86_400_000
}

/** The period in whole months as Datapass asks for it, rounded up: never less than what is kept. */
export function retentionMonths(r: RetentionPeriod): number {
  return r.unit === 'months' ? r.count : Math.ceil(r.count / 30.4375)
}
