// What the rest of the gateway calls to audit: `record` an event a request caused (login, logout,
// session), `finish` the request when its response is done (writes those events and the one access
// event, all with the request's status and duration), or `emit` an event no request caused (config
// loaded, a session that expired in the background). Filling the common fields here keeps every
// event complete and keeps secrets out: callers never hand over a cookie, a token or a query string.
import type { AccessDecision, AuditSink } from './events.js'
import { AUDIT_SCHEMA_VERSION, type AccessEvent, type AuditEvent, type ConfigEvent, type LoginEvent, type LogoutEvent, type SessionEvent } from './schema.js'

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
type FilledByTrail = 'v' | 'time' | 'requestId' | 'client' | 'userAgent' | 'route' | 'method' | 'path' | 'query' | 'status' | 'durationMs' | 'aborted'

/** An event a request caused; the request's own facts are filled in by the trail. */
export type RequestEventInput = DistributiveOmit<LoginEvent | LogoutEvent | SessionEvent, FilledByTrail>
/** An event outside any request. */
export type StandaloneEventInput = DistributiveOmit<ConfigEvent | LogoutEvent | SessionEvent, 'v' | 'time'>
/** Any event but for its version and time. */
export type AuditEventInput = DistributiveOmit<AuditEvent, 'v' | 'time'>

/** What the gate (or the gateway's hooks) learnt about the request. */
export interface AccessFacts {
  decision: AccessDecision
  route?: string | undefined
  reason?: string | undefined
  session?: string | undefined
  idNat?: string | undefined
  profession?: string | undefined
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

  constructor (sink: AuditSink, options: TrailOptions = {}) {
    this.#sink = sink
    this.#includeQuery = options.includeQuery ?? false
    this.#prefix = options.reservedPrefix ?? '/_psc'
    this.#now = options.now ?? Date.now
  }

  record (request: RequestLike, input: RequestEventInput): void {
    const list = this.#pending.get(request)
    const item = { time: this.#time(), input }
    if (list === undefined) this.#pending.set(request, [item])
    else list.push(item)
  }

  emit (input: StandaloneEventInput): void | Promise<void> {
    return this.#sink.write(dropUndefined({ v: AUDIT_SCHEMA_VERSION, time: this.#time(), ...input } as AuditEvent))
  }

  /** Writes an event at once, stamped with the version and the time (prefer record or emit). */
  write (input: AuditEventInput): void | Promise<void> {
    return this.#sink.write(dropUndefined({ v: AUDIT_SCHEMA_VERSION, time: this.#time(), ...input } as AuditEvent))
  }

  /** Resolves when the sinks have room again (block mode); undefined when they have room now. */
  whenRoom (): Promise<void> | undefined {
    return this.#sink.whenRoom?.()
  }

  /** Writes the request's events, then its access event. Returns a promise only when the sink is full. */
  finish (request: RequestLike, done: { status: number; durationMs: number; aborted?: boolean; access: AccessFacts }): void | Promise<void> {
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
    const userAgent = typeof ua === 'string' ? ua.slice(0, MAX_USER_AGENT) : undefined
    // The request's facts, shared by its events. Built key by key (no spreads, no deletes): this runs
    // for every request, and objects that keep one shape serialise fastest.
    const facts: Record<string, unknown> = { requestId: request.id, client: request.ip }
    if (userAgent !== undefined) facts.userAgent = userAgent
    if (access.route !== undefined) facts.route = access.route
    facts.method = request.method
    facts.path = access.invalidPath === true ? '(invalid)' : path
    if (this.#includeQuery && q !== -1 && q < url.length - 1 && access.invalidPath !== true && !this.#reserved(path)) facts.query = url.slice(q + 1)
    facts.status = done.status
    facts.durationMs = Math.round(done.durationMs * 100) / 100
    if (done.aborted === true) facts.aborted = true
    const who = { session: access.session, idNat: access.idNat, profession: access.profession }
    let waits: Promise<void>[] | undefined
    const write = (event: AuditEvent) => {
      const w = this.#sink.write(event)
      if (w !== undefined) (waits ??= []).push(w)
    }
    const pending = this.#pending.get(request)
    if (pending !== undefined) {
      this.#pending.delete(request)
      for (const p of pending) {
        write(dropUndefined({ v: AUDIT_SCHEMA_VERSION, time: p.time, ...p.input, ...facts } as AuditEvent))
        // The access line names the practitioner a login or logout of this request was about.
        if (who.session === undefined && p.input.session !== undefined) who.session = p.input.session
        if (who.idNat === undefined && p.input.idNat !== undefined) {
          who.idNat = p.input.idNat
          who.profession ??= p.input.profession
        }
      }
    }
    const event: Record<string, unknown> = { v: AUDIT_SCHEMA_VERSION, time, event: 'access', decision: access.decision }
    if (access.reason !== undefined) event.reason = access.reason
    for (const key in facts) event[key] = facts[key]
    if (who.session !== undefined) event.session = who.session
    if (who.idNat !== undefined) event.idNat = who.idNat
    if (who.profession !== undefined) event.profession = who.profession
    write(event as unknown as AccessEvent)
    if (waits !== undefined) return Promise.all(waits).then(() => {})
  }

  #reserved (path: string): boolean {
    return path === this.#prefix || path.startsWith(this.#prefix + '/')
  }

  #time (): string {
    // Many requests end within the same millisecond: format each millisecond once.
    const ms = this.#now()
    if (ms !== this.#lastMs) {
      this.#lastMs = ms
      this.#lastIso = new Date(ms).toISOString()
    }
    return this.#lastIso
  }
}

function dropUndefined<T extends object> (event: T): T {
  for (const k of Object.keys(event) as (keyof T)[]) if (event[k] === undefined) delete event[k]
  return event
}
