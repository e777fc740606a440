// The primary's side of the memory session store shared by the workers: every store method answered over each worker's channel.
import type { RpcPeer } from './rpc.js'
import type { SessionRecord, SessionStore } from '../session/store.js'

/**
 * What `get` answers: nothing (no such session), the version the worker already holds (a number:
 * the record has not been written since, nothing else is sent), or a newer version with its record.
 */
export type GetReply = number | [version: number, record: SessionRecord] | undefined | null

/**
 * The store methods on the channel. None tells a worker of the sessions that end by themselves: the
 * primary audits those itself (one listener on its store), so each is audited once, and no worker
 * can take that over (a call to another method is refused as unknown).
 */
export const STORE_RPC = {
  get: 'store.get',
  set: 'store.set',
  update: 'store.update',
  delete: 'store.delete',
  deleteWhere: 'store.deleteWhere',
  deleteByRefs: 'store.deleteByRefs',
  listSessions: 'store.listSessions',
  rememberOnce: 'store.rememberOnce',
  putShared: 'store.putShared',
  getShared: 'store.getShared',
  takeShared: 'store.takeShared',
  replaceShared: 'store.replaceShared',
  tryLock: 'store.tryLock',
  unlock: 'store.unlock',
  health: 'store.health',
  size: 'store.size',
} as const

/** What an argument of a call must be, checked before the store sees it. */
export type ArgKind = 'string' | 'strings' | 'ms' | 'window' | 'version' | 'object'

const argOk: Record<ArgKind, (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string',
  strings: (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'),
  ms: (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0,
  /** a window of zero would count every hit as the first: never limited */
  window: (v) => typeof v === 'number' && Number.isFinite(v) && v > 0,
  version: (v) => v === null || v === undefined || Number.isSafeInteger(v),
  object: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
}

const STORE_ARGS: Record<string, ArgKind[]> = {
  [STORE_RPC.get]: ['string', 'version'],
  [STORE_RPC.set]: ['string', 'object', 'ms'],
  [STORE_RPC.update]: ['string', 'object', 'ms'],
  [STORE_RPC.delete]: ['string'],
  [STORE_RPC.deleteWhere]: ['object'],
  [STORE_RPC.deleteByRefs]: ['strings'],
  [STORE_RPC.listSessions]: ['object'],
  [STORE_RPC.rememberOnce]: ['string', 'ms'],
  [STORE_RPC.putShared]: ['string', 'string', 'ms'],
  [STORE_RPC.getShared]: ['string'],
  [STORE_RPC.takeShared]: ['string'],
  [STORE_RPC.replaceShared]: ['string', 'string', 'string', 'ms'],
  [STORE_RPC.tryLock]: ['string', 'ms'],
  [STORE_RPC.unlock]: ['string'],
}

/**
 * `peer`, whose handlers first check their arguments against `kinds` (by method): a call of another
 * shape is refused with an error naming the method and the argument's position, never its value.
 */
export function typedHandlers(peer: RpcPeer, kinds: Record<string, ArgKind[]>): Pick<RpcPeer, 'handle'> {
  return {
    handle<A extends unknown[]>(method: string, handler: (...args: A) => unknown): void {
      const expected = kinds[method] ?? []
      peer.handle(method, (...args: unknown[]) => {
        if (args.length > expected.length) throw new TypeError(`${method}: ${args.length} arguments`)
        for (const [i, kind] of expected.entries())
          if (!argOk[kind](args[i])) throw new TypeError(`${method}: argument ${i + 1} is not ${kind}`)
        return handler(...(args as A))
      })
    },
  }
}

/**
 * Serves one store to any number of workers (serve() once per worker's channel). The sessions that
 * end by themselves are not the workers' business: the store's one listener is the primary's audit.
 */
export class PrimaryStoreServer {
  readonly #store: SessionStore
  /** The record object the store holds is the version: a write puts another object in its place. */
  readonly #versions = new WeakMap<SessionRecord, number>()
  #nextVersion = 1
  readonly #locks = new Map<string, { release: () => Promise<void>; timer: NodeJS.Timeout }>()
  #nextLock = 1

  constructor(store: SessionStore) {
    this.#store = store
  }

  /** Answers the store calls of the worker at the other end of `peer`; a call whose arguments are not of their types is refused. */
  serve(rpc: RpcPeer): void {
    const store = this.#store
    const r = STORE_RPC
    const peer = typedHandlers(rpc, STORE_ARGS)
    peer.handle(r.get, (id: string, known: number | null) => {
      const got = store.get(id)
      return got instanceof Promise ? got.then((record) => this.#reply(record, known)) : this.#reply(got, known)
    })
    peer.handle(r.set, (id: string, record: SessionRecord, ttlMs: number) => store.set(id, record, ttlMs))
    peer.handle(r.update, (id: string, record: SessionRecord, ttlMs: number) => store.update(id, record, ttlMs))
    peer.handle(r.delete, (id: string) => store.delete(id))
    peer.handle(r.deleteWhere, (match: { sid?: string; sub?: string }) => store.deleteWhere(match))
    peer.handle(r.deleteByRefs, (refs: string[]) => store.deleteByRefs(refs))
    peer.handle(r.listSessions, (filter: { idNat?: string }) => store.listSessions(filter))
    peer.handle(r.rememberOnce, (key: string, ttlMs: number) => store.rememberOnce(key, ttlMs))
    peer.handle(r.putShared, (key: string, value: string, ttlMs: number) => store.putShared(key, value, ttlMs))
    peer.handle(r.getShared, (key: string) => store.getShared(key))
    peer.handle(r.takeShared, (key: string) => store.takeShared(key))
    peer.handle(r.replaceShared, (key: string, expected: string, value: string, ttlMs: number) =>
      store.replaceShared(key, expected, value, ttlMs),
    )
    peer.handle(r.tryLock, (key: string, ttlMs: number) => this.#tryLock(key, ttlMs))
    peer.handle(r.unlock, (token: string) => this.#unlock(token))
    peer.handle(r.health, () => store.health())
    peer.handle(r.size, () => store.size())
  }

  /** Locks held by workers (a worker that died holding one: it lapses at its TTL, as in the store). */
  get locksHeld(): number {
    return this.#locks.size
  }

  #reply(record: SessionRecord | undefined, known: number | null): GetReply {
    if (record === undefined) return undefined
    let version = this.#versions.get(record)
    if (version === undefined) {
      version = this.#nextVersion++
      this.#versions.set(record, version)
    }
    return version === known ? version : [version, record]
  }

  async #tryLock(key: string, ttlMs: number): Promise<string | undefined> {
    const release = await this.#store.tryLock(key, ttlMs)
    if (release === undefined) return undefined
    const token = String(this.#nextLock++)
    // The store's lock lapses at its TTL; so does our handle on it, whoever forgets to release it.
    const timer = setTimeout(() => this.#locks.delete(token), Math.max(1, ttlMs)).unref()
    this.#locks.set(token, { release, timer })
    return token
  }

  async #unlock(token: string): Promise<void> {
    const held = this.#locks.get(token)
    if (held === undefined) return
    this.#locks.delete(token)
    clearTimeout(held.timer)
    await held.release()
  }
}
