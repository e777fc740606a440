// The security team's report (`audit report`): what is counted from each audit event, in bounded
// memory whatever the trail's length (counters by day, hour, profession, route; capped tables of
// practitioners, addresses and sessions). Pure: events in, figures out; no I/O, no clock.

/** Working hours in a time zone: what is outside them (and weekends) is listed. */
export interface WorkingHours {
  /** minutes from midnight, local time: from `start` (included) to `end` (excluded) */
  start: number
  end: number
  timeZone: string
  /** Saturdays and Sundays are outside working hours */
  weekends: boolean
}

export const DEFAULT_WORKING_HOURS: WorkingHours = {
  start: 7 * 60,
  end: 20 * 60,
  timeZone: 'Europe/Paris',
  weekends: true,
}

export interface ReportWindow {
  /** first and last local days counted (YYYY-MM-DD, in the working hours' time zone), inclusive */
  from: string
  to: string
}

export interface Counts {
  logins: number
  loginFailures: number
  denials: number
}

export interface RouteCounts {
  allowed: number
  denied: number
}

export interface OffHoursSession {
  session: string
  idNat: string
  client: string
  first: string
  last: string
  requests: number
  /** why it is outside working hours: night, weekend, or both */
  weekend: boolean
  night: boolean
}

export interface ReportFigures {
  window: ReportWindow
  hours: WorkingHours
  /** audit events read in all files, and those inside the window */
  eventsRead: number
  eventsInWindow: number
  days: Map<string, Counts>
  byHour: Counts[]
  professions: Map<string, Counts>
  routes: Map<string, RouteCounts>
  ciba: Map<string, number>
  refusedPractitioners: Map<string, number>
  /** refusals of practitioners not kept once the table was full */
  refusedPractitionersOverflow: number
  refusedClients: Map<string, number>
  /** refusals of addresses not kept once the table was full */
  refusedClientsOverflow: number
  offHours: Map<string, OffHoursSession>
  /** off-hours sessions not listed once the table was full */
  offHoursOverflow: number
}

/** At most this many distinct addresses and off-hours sessions are kept (a scan from many addresses stays bounded). */
export const MAX_KEPT = 20_000

interface LocalTime {
  day: string
  hour: number
  minute: number
  weekend: boolean
}

const zero = (): Counts => ({ logins: 0, loginFailures: 0, denials: 0 })

/** "07:00-20:00" → minutes; throws with what was expected. */
export function parseWorkingHours(text: string): { start: number; end: number } {
  const m = /^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$/.exec(text.trim())
  const start = m === null ? Number.NaN : Number(m[1]) * 60 + Number(m[2])
  const end = m === null ? Number.NaN : Number(m[3]) * 60 + Number(m[4])
  if (!(start >= 0 && end <= 24 * 60 && start < end && Number(m![2]) < 60 && Number(m![4]) < 60))
    throw new Error(`expected working hours as HH:MM-HH:MM (e.g. 07:00-20:00), got ${JSON.stringify(text)}`)
  return { start, end }
}

export class ReportAggregator {
  readonly figures: ReportFigures
  #format: Intl.DateTimeFormat
  /** local time of each UTC minute-less hour seen ("2026-11-03T14"): one Intl call per hour of trail */
  #local = new Map<string, { day: string; hour: number; minuteOffset: number; weekend: boolean }>()

  constructor(window: ReportWindow, hours: WorkingHours = DEFAULT_WORKING_HOURS) {
    this.#format = new Intl.DateTimeFormat('en-GB', {
      timeZone: hours.timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
      hourCycle: 'h23',
    })
    this.figures = {
      window,
      hours,
      eventsRead: 0,
      eventsInWindow: 0,
      days: new Map(),
      byHour: Array.from({ length: 24 }, zero),
      professions: new Map(),
      routes: new Map(),
      ciba: new Map(),
      refusedPractitioners: new Map(),
      refusedPractitionersOverflow: 0,
      refusedClients: new Map(),
      refusedClientsOverflow: 0,
      offHours: new Map(),
      offHoursOverflow: 0,
    }
  }

  /** One line of a trail: audit events are counted; anything else (another log, a cut line) is not. */
  addLine(text: string): void {
    if (text.charCodeAt(0) !== 123 /* { */) return
    let e: unknown
    try {
      e = JSON.parse(text)
    } catch {
      return
    }
    if (typeof e === 'object' && e !== null) this.add(e as Record<string, unknown>)
  }

  add(e: Record<string, unknown>): void {
    if (e.log !== undefined && e.log !== 'audit') return
    const event = e.event
    const time = e.time
    if (typeof event !== 'string' || typeof time !== 'string' || event === 'chain-start' || event === 'chain-head')
      return
    const f = this.figures
    f.eventsRead++
    const local = this.localTime(time)
    if (local === undefined || local.day < f.window.from || local.day > f.window.to) return
    f.eventsInWindow++
    const str = (v: unknown) => (typeof v === 'string' ? v : '')
    const idNat = str(e.idNat)
    const client = str(e.client)
    const profession = str(e.profession)
    if (event === 'login') {
      if (e.outcome === 'succeeded') {
        this.#count(local, profession, (c) => c.logins++)
        this.#offHours(local, time, str(e.session), idNat, client, false)
      } else if (e.outcome === 'failed') {
        this.#count(local, profession, (c) => c.loginFailures++)
        this.#refused(idNat, client)
      }
    } else if (event === 'access') {
      const route = str(e.route)
      if (e.decision === 'allow') {
        if (route !== '') this.#route(route).allowed++
        this.#offHours(local, time, str(e.session), idNat, client, true)
      } else if (e.decision === 'deny') {
        if (route !== '') this.#route(route).denied++
        this.#count(local, profession, (c) => c.denials++)
        this.#refused(idNat, client)
      }
    } else if (event === 'ciba') {
      const outcome = str(e.outcome)
      if (outcome !== '') f.ciba.set(outcome, (f.ciba.get(outcome) ?? 0) + 1)
    }
  }

  /** The local day, hour and weekday of an ISO UTC time, or undefined when it is not one. */
  localTime(iso: string): LocalTime | undefined {
    const hourKey = iso.slice(0, 13)
    let cached = this.#local.get(hourKey)
    if (cached === undefined) {
      const t = Date.parse(`${hourKey}:00:00Z`)
      if (Number.isNaN(t)) return undefined
      const parts = Object.fromEntries(this.#format.formatToParts(t).map((p) => [p.type, p.value]))
      cached = {
        day: `${parts.year}-${parts.month}-${parts.day}`,
        hour: Number(parts.hour),
        // Zones a half or quarter hour off UTC (none in France, some overseas) shift the minutes.
        minuteOffset: Number(parts.minute),
        weekend: parts.weekday === 'Sat' || parts.weekday === 'Sun',
      }
      // A month of trail is ~750 hours; a trail spanning years keeps at most this many.
      if (this.#local.size > 100_000) this.#local.clear()
      this.#local.set(hourKey, cached)
    }
    const minutes = cached.minuteOffset + Number(iso.slice(14, 16))
    if (Number.isNaN(minutes)) return undefined
    // The hour's minutes past 60 belong to the next local hour (only in zones off by a fraction of an hour).
    return {
      day: cached.day,
      hour: cached.hour + (minutes >= 60 ? 1 : 0),
      minute: minutes % 60,
      weekend: cached.weekend,
    }
  }

  #count(local: LocalTime, profession: string, bump: (c: Counts) => void): void {
    const f = this.figures
    const day = f.days.get(local.day) ?? zero()
    f.days.set(local.day, day)
    bump(day)
    bump(f.byHour[local.hour % 24]!)
    const key = profession === '' ? '(inconnue)' : profession
    const p = f.professions.get(key) ?? zero()
    f.professions.set(key, p)
    bump(p)
  }

  #route(route: string): RouteCounts {
    const r = this.figures.routes.get(route) ?? { allowed: 0, denied: 0 }
    this.figures.routes.set(route, r)
    return r
  }

  #refused(idNat: string, client: string): void {
    const f = this.figures
    if (idNat !== '') f.refusedPractitionersOverflow += bumpCapped(f.refusedPractitioners, idNat)
    if (client !== '') f.refusedClientsOverflow += bumpCapped(f.refusedClients, client)
  }

  #offHours(local: LocalTime, time: string, session: string, idNat: string, client: string, request: boolean): void {
    const h = this.figures.hours
    const minutes = local.hour * 60 + local.minute
    const night = minutes < h.start || minutes >= h.end
    const weekend = h.weekends && local.weekend
    if (!night && !weekend) return
    const f = this.figures
    // A request without a session or a practitioner (a public route) is nobody's session.
    const key = session !== '' ? session : idNat !== '' ? `${idNat}|${client}` : ''
    if (key === '') return
    const s = f.offHours.get(key)
    if (s === undefined) {
      if (f.offHours.size >= MAX_KEPT) {
        f.offHoursOverflow++
        return
      }
      f.offHours.set(key, {
        session,
        idNat,
        client,
        first: time,
        last: time,
        requests: request ? 1 : 0,
        night,
        weekend,
      })
      return
    }
    if (s.idNat === '') s.idNat = idNat
    s.last = time
    if (request) s.requests++
    s.night ||= night
    s.weekend ||= weekend
  }
}

/**
 * Counts one more for `key`; 1 when the map is full and `key` not in it (counted apart): a trail
 * from a scan of many addresses, or a forged one, cannot exhaust memory.
 */
function bumpCapped(map: Map<string, number>, key: string): number {
  const n = map.get(key)
  if (n !== undefined) map.set(key, n + 1)
  else if (map.size < MAX_KEPT) map.set(key, 1)
  else return 1
  return 0
}

/** The n largest entries of a count map, largest first (ties by key, for a stable report). */
export function top(map: Map<string, number>, n: number): [string, number][] {
  return [...map].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n)
}
