// What the rest of the gateway calls to audit: `record` an event a request caused (login, logout,
// session), `finish` the request when its response is done (writes those events and the one access
// event, all with the request's status and duration), or `emit` an event no request caused (config
// loaded, a session that expired in the background). Filling the common fields here keeps every
// event complete and keeps secrets out: callers never hand over a cookie, a token or a query string.
import type { AccessDecision, AuditSink } from './events.js'
import {
  AUDIT_SCHEMA_VERSION,
  type AccessEvent,
  type AuditEvent,
  type CibaEvent,
  type CharterEvent,
  type ConfigEvent,
  type LoginEvent,
  type LogoutEvent,
  type SessionEvent,
} from './event-schema.js'

/** The little of a fastify request the trail reads (fastify's request fits). */
export interface RequestLike {
  id: string
  ip: string
  method: string
  /** the normalised path and the query, as fastify's rewriteUrl left it */
  url: string
  headers: { 'user-agent'?: string | string[] | undefined }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never
type FilledByTrail =
  | 'v'
  | 'time'
  | 'requestId'
  | 'client'
  | 'userAgent'
  | 'route'
  | 'method'
  | 'path'
  | 'query'
  | 'status'
  | 'durationMs'
  | 'aborted'

/** An event a request caused; the request's own facts are filled in by the trail. */
export type RequestEventInput = DistributiveOmit<
  LoginEvent | LogoutEvent | SessionEvent | CibaEvent | CharterEvent,
  FilledByTrail
>
/** An event outside any request. */
export type StandaloneEventInput = DistributiveOmit<ConfigEvent | LogoutEvent | SessionEvent | CibaEvent, 'v' | 'time'>
/** Any event but for its version and time. */
export type AuditEventInput = DistributiveOmit<AuditEvent, 'v' | 'time'>

/** What the gate (or the gateway's hooks) learnt about the request. */
export interface AccessFacts {
  decision: AccessDecision
  route?: string | undefined
  /** the outcome code (PSC_ERR_*) */
  reason?: string | undefined
  /** technical detail of a refusal (English, never personal data beyond the idNat field) */
  detail?: string | undefined
  session?: string | undefined
  idNat?: string | undefined
  profession?: string | undefined
  /** an allowed request: the exercice it was allowed for (index, PSC order) and that exercice's structure described upstream */
  exercice?: number | undefined
  structure?: string | undefined
  /** the path could not be normalised: it is not written (it is attacker-controlled garbage) */
  invalidPath?: boolean
}

export interface TrailOptions {
  includeQuery?: boolean
  /** the gateway's reserved prefix: query strings under it (the callback's code) are never written */
  reservedPrefix?: string
  now?: () => number
}

const MAX_USER_AGENT = 512

/**
 * Marks a request whose access event is written (once per request, whether the response finished or
 * the client went away first). A property rather than a WeakSet entry per request, which costs the
 * garbage collector dearly; fastify declares it on every request (decorateRequest) so requests keep
 * one shape.
 */
export const AUDIT_FINISHED = Symbol('psc.auditFinished')

interface Pending {
  time: string
  input: RequestEventInput
}

export class AuditTrail {
  #sink: AuditSink
  #pending = new WeakMap<object, Pending[]>()
  #includeQuery: boolean
  #prefix: string
  #now: () => number
  #lastMs = Number.NaN
  #lastIso = ''
  /** the first millisecond of the second last formatted, and its ISO text up to the "." */
  #secondStart = Number.NaN
  #secondPrefix = ''
  #configHash: string | undefined

  constructor(sink: AuditSink, options: TrailOptions = {}) {
    this.#sink = sink
    this.#includeQuery = options.includeQuery ?? false
    this.#prefix = options.reservedPrefix ?? '/_psc'
    this.#now = options.now ?? Date.now
  }

  record(request: RequestLike, input: RequestEventInput): void {
    const list = this.#pending.get(request)
    const item = { time: this.#time(), input }
    if (list === undefined) this.#pending.set(request, [item])
    else list.push(item)
  }

  emit(input: StandaloneEventInput): void | Promise<void> {
    return this.#sink.write(dropUndefined({ v: AUDIT_SCHEMA_VERSION, time: this.#time(), ...input } as AuditEvent))
  }

  /** Writes an event at once, stamped with the version and the time (prefer record or emit). */
  write(input: AuditEventInput): void | Promise<void> {
    return this.#sink.write(dropUndefined({ v: AUDIT_SCHEMA_VERSION, time: this.#time(), ...input } as AuditEvent))
  }

  /** The short hash of the configuration in force (config/changes.ts), stamped on every access event from now on. */
  setConfigHash(hash: string | undefined): void {
    this.#configHash = hash
  }

  /** Resolves when the sinks have room again (block mode); undefined when they have room now. */
  whenRoom(): Promise<void> | undefined {
    return this.#sink.whenRoom?.()
  }

  /** Writes the request's events, then its access event. Returns a promise only when the sink is full. */
  finish(
    request: RequestLike,
    done: { status: number; durationMs: number; aborted?: boolean; access: AccessFacts },
  ): void | Promise<void> {
    // Once per request, whether the response finished or the client went away first.
    const r = request as RequestLike & { [AUDIT_FINISHED]?: boolean }
    if (r[AUDIT_FINISHED] === true) return
    r[AUDIT_FINISHED] = true
    const time = this.#time()
    const url = request.url
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    const { access } = done
    const ua = request.headers['user-agent']
    // The access event, built key by key (no spreads, no deletes, no intermediate objects): this
    // runs for every request, and objects that keep one shape serialise fastest.
    const event: Record<string, unknown> = { v: AUDIT_SCHEMA_VERSION, time, event: 'access', decision: access.decision }
    if (access.reason !== undefined) event.reason = access.reason
    if (access.detail !== undefined) event.detail = access.detail
    event.requestId = request.id
    event.client = request.ip
    if (typeof ua === 'string') event.userAgent = ua.slice(0, MAX_USER_AGENT)
    if (access.route !== undefined) event.route = access.route
    event.method = request.method
    event.path = access.invalidPath === true ? '(invalid)' : path
    if (this.#includeQuery && q !== -1 && q < url.length - 1 && access.invalidPath !== true && !this.#reserved(path))
      event.query = url.slice(q + 1)
    event.status = done.status
    event.durationMs = Math.round(done.durationMs * 100) / 100
    if (done.aborted === true) event.aborted = true
    let { session, idNat, profession } = access
    let waits: Promise<void>[] | undefined
    const pending = this.#pending.get(request)
    if (pending !== undefined) {
      this.#pending.delete(request)
      for (const p of pending) {
        // The login, logout or session event carries the request's facts too.
        const w = this.#sink.write(
          dropUndefined({ v: AUDIT_SCHEMA_VERSION, time: p.time, ...p.input, ...requestFacts(event) } as AuditEvent),
        )
        if (w !== undefined) {
          waits ??= []
          waits.push(w)
        }
        // The access line names the practitioner a login or logout of this request was about.
        if (session === undefined && p.input.session !== undefined) session = p.input.session
        if (idNat === undefined && p.input.idNat !== undefined) {
          idNat = p.input.idNat
          profession ??= p.input.profession
        }
      }
    }
    if (session !== undefined) event.session = session
    if (idNat !== undefined) event.idNat = idNat
    if (profession !== undefined) event.profession = profession
    if (access.exercice !== undefined) event.exercice = access.exercice
    if (access.structure !== undefined) event.structure = access.structure
    if (this.#configHash !== undefined) event.configHash = this.#configHash
    const w = this.#sink.write(event as unknown as AccessEvent)
    if (w !== undefined) {
      waits ??= []
      waits.push(w)
    }
    if (waits !== undefined) return Promise.all(waits).then(() => {})
  }

  #reserved(path: string): boolean {
    return path === this.#prefix || path.startsWith(`${this.#prefix}/`)
  }

  #time(): string {
    // Many requests end within the same millisecond: format each millisecond once, and each second
    // once (the date and time up to the second), the milliseconds put after it.
    const ms = this.#now()
    if (ms === this.#lastMs) return this.#lastIso
    this.#lastMs = ms
    const inSecond = ms - this.#secondStart
    if (inSecond >= 0 && inSecond < 1000) {
      this.#lastIso = `${this.#secondPrefix}${MILLISECONDS[inSecond]}Z`
    } else {
      const iso = new Date(ms).toISOString()
      this.#secondStart = ms - (((ms % 1000) + 1000) % 1000)
      this.#secondPrefix = iso.slice(0, iso.length - 4)
      this.#lastIso = iso
    }
    return this.#lastIso
  }
}

/** "000" to "999": the milliseconds of an ISO time. */
const MILLISECONDS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'))

const REQUEST_FACTS = [
  'requestId',
  'client',
  'userAgent',
  'route',
  'method',
  'path',
  'query',
  'status',
  'durationMs',
  'aborted',
] as const

/** The request's own facts, as the access event has them, for the other events of the request. */
function requestFacts(access: Record<string, unknown>): Record<string, unknown> {
  const facts: Record<string, unknown> = {}
  for (const key of REQUEST_FACTS) if (access[key] !== undefined) facts[key] = access[key]
  return facts
}

function dropUndefined<T extends object>(event: T): T {
  for (const k of Object.keys(event) as (keyof T)[]) if (event[k] === undefined) delete event[k]
  return event
}
