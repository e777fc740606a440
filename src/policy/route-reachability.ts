// Which routes can be reached, decided by the matcher the gateway runs (policy/rules.ts), never
// by a second description of matching that could drift from it.
//
// For a route B, the requests B matches fall into finitely many classes that every route treats
// alike: a host class per host B lists (or "any other host" when B lists none), a method class
// per method B matches (or "any other method"), and the path prefix itself, which is the request
// under B's prefix that the fewest routes match. B is reachable iff matchRoute answers at least
// one representative with B itself; otherwise the routes that answered them are the ones that
// shadow B. Representatives are real requests given to matchRoute, so canonicalisation (case,
// trailing dot, port, HEAD for GET) and path normalisation are the gateway's own.
import type { RouteConfig } from '../config/schema.js'
import { canonicalHost, compileRoutes, hostWithoutPort, matchRoute, type CompiledRoute } from './rules.js'
import { normalizeRequestTarget } from './path.js'

export interface RouteReach {
  /** some request is answered by this route */
  reachable: boolean
  /** when not reachable: the earlier routes that answer every request it matches (empty: it matches none) */
  shadowedBy: number[]
  /** indexes into match.host of hosts no request can carry (e.g. with a port: hosts are compared without) */
  deadHosts: number[]
  /**
   * no request path the table sees starts with the prefix: normalisation rewrites it (normalised)
   * or refuses it (refused), or it lies under the gateway's own endpoints (reserved)
   */
  deadPrefix?: { normalised?: string; refused?: string; reserved?: string }
}

type Request = { host: string | undefined; method: string; path: string }

/** A request host whose canonical form is `host` as configured, or undefined if there is none. */
function requestHostFor(configured: string): string | undefined {
  const canonical = canonicalHost(configured)
  return [canonical, `${canonical}.`].find((h) => hostWithoutPort(h) === canonical)
}

function unlistedMethod(routes: readonly CompiledRoute[]): string {
  const listed = new Set(routes.flatMap((r) => (r.methods === undefined ? [] : [...r.methods])))
  let method = 'UNLISTED'
  while (listed.has(method)) method += 'X'
  return method
}

function deadPrefixOf(prefix: string, reserved: string | undefined): RouteReach['deadPrefix'] {
  // the gate sends these paths to the gateway's own endpoints, never to the route table
  if (reserved !== undefined && (prefix === reserved || prefix.startsWith(`${reserved}/`))) return { reserved }
  const n = normalizeRequestTarget(prefix)
  if (!n.ok) return { refused: n.reason }
  return n.path === prefix ? undefined : { normalised: n.path }
}

/** The verdict on every route of a table, in order; `reservedPrefix`: the gateway's own endpoints. */
export function routeReachability(routes: readonly RouteConfig[], reservedPrefix?: string): RouteReach[] {
  const table = compileRoutes([...routes])
  const otherMethod = unlistedMethod(table.routes)
  return routes.map((route, index): RouteReach => {
    const compiled = table.routes[index]!
    const hosts = (route.match?.host ?? []).map(requestHostFor)
    const deadHosts = hosts.flatMap((h, i) => (h === undefined ? [i] : []))
    const deadPrefix = deadPrefixOf(compiled.pathPrefix, reservedPrefix)
    const verdict = { reachable: false, shadowedBy: [] as number[], deadHosts, ...(deadPrefix && { deadPrefix }) }
    if (deadPrefix !== undefined) return verdict
    const requestHosts = route.match?.host === undefined ? [undefined] : hosts.filter((h) => h !== undefined)
    const methods = compiled.methods === undefined ? [otherMethod] : [...compiled.methods]
    const shadowedBy = new Set<number>()
    for (const host of requestHosts) {
      for (const method of methods) {
        const req: Request = { host, method, path: compiled.pathPrefix }
        const answer = matchRoute(table, req)
        if (answer === undefined || answer.index > index) continue // not one of B's requests
        if (answer.index === index) return { ...verdict, reachable: true }
        shadowedBy.add(answer.index)
      }
    }
    return { ...verdict, shadowedBy: [...shadowedBy].sort((a, b) => a - b) }
  })
}
