// The connections to the upstreams: one undici Pool per upstream origin, made when the configuration
// is built or reloaded, closed when a reload drops the origin or when the gateway closes.
import { Pool } from 'undici'
import type { UpstreamSettings } from '../config/types.js'

/** What forwarding needs of an upstream on every request, worked out once per settings object. */
export interface UpstreamLink {
  pool: Pool
  /** the Host header the upstream expects: its URL's host (port only when not the default) */
  host: string
  /** upstream.timeoutMs: the longest wait for the answer's head, and between two chunks of its body */
  timeout: number | undefined
}

/**
 * As many connections per origin as @fastify/reply-from's default agent had (128, no pipelining),
 * so that the upstreams see the same load. TLS is Node's default: the upstream's certificate is
 * checked against Node's roots and NODE_EXTRA_CA_CERTS.
 */
const POOL_OPTIONS: Pool.Options = { connections: 128, pipelining: 1 }

export class UpstreamPools {
  readonly #byOrigin = new Map<string, Pool>()
  // A reload brings new settings objects (and their links); a request keeps the one it was authorised with.
  readonly #links = new WeakMap<UpstreamSettings, UpstreamLink>()

  constructor(upstreams: Record<string, UpstreamSettings>) {
    this.keepOnly(upstreams)
  }

  /** The link of an upstream; made on its first request when the settings came without a reload. */
  linkOf(upstream: UpstreamSettings): UpstreamLink {
    return this.#links.get(upstream) ?? this.#link(upstream)
  }

  /**
   * After a reload: pools for the new origins, and the pools of the origins no longer configured
   * closed once their requests in flight are done (undici's close waits for them). A request
   * authorised just before the reload and not yet sent finds its pool closed: 502, as for an
   * upstream that went away.
   */
  keepOnly(upstreams: Record<string, UpstreamSettings>): void {
    const origins = new Set<string>()
    for (const upstream of Object.values(upstreams)) {
      this.#link(upstream)
      origins.add(new URL(upstream.url).origin)
    }
    for (const [origin, pool] of this.#byOrigin) {
      if (origins.has(origin)) continue
      this.#byOrigin.delete(origin)
      void pool.close()
    }
  }

  /** Closes every pool: requests in flight finish, idle connections close. */
  async close(): Promise<void> {
    const pools = [...this.#byOrigin.values()]
    this.#byOrigin.clear()
    await Promise.all(pools.map((p) => p.close()))
  }

  #link(upstream: UpstreamSettings): UpstreamLink {
    const url = new URL(upstream.url)
    let pool = this.#byOrigin.get(url.origin)
    if (pool === undefined) {
      pool = new Pool(url.origin, POOL_OPTIONS)
      this.#byOrigin.set(url.origin, pool)
    }
    const link = { pool, host: url.host, timeout: upstream.timeoutMs }
    this.#links.set(upstream, link)
    return link
  }
}
