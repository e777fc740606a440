// The compiled route table: the YAML routes made fast to match. First match wins; a request that
// matches nothing is not forwarded (404). Paths given to matchRoute are already normalised
// (policy/path.ts), so matching is plain string comparison on whole segments.
import type { AccessConfig, RouteConfig, StructureSetConfig } from '../config/schema.js'
import { structureSetLabels } from './establishments.js'
import { homeEstablishments } from './exercice-in-context.js'

export interface CompiledRoute {
  index: number
  name: string
  /** lowercased, no port, no trailing dot; undefined = any host */
  hosts?: ReadonlySet<string>
  /** "/" = all */
  pathPrefix: string
  /** undefined = any method; HEAD is added when GET is listed */
  methods?: ReadonlySet<string>
  upstream: string
  access: AccessConfig
}

export interface RouteTable {
  readonly routes: readonly CompiledRoute[]
  /** the establishments the configuration names, where the exercice in context is looked for first */
  readonly establishments: readonly StructureSetConfig[]
}

/** A configured host as the table holds it: lowercased, one trailing dot dropped. */
export function canonicalHost(host: string): string {
  const lower = host.toLowerCase()
  return lower.endsWith('.') ? lower.slice(0, -1) : lower
}

export function compileRoutes(
  routes: RouteConfig[],
  structures: Readonly<Record<string, StructureSetConfig>> = {},
): RouteTable {
  const compiled = routes.map((r, index): CompiledRoute => {
    const route: CompiledRoute = {
      index,
      name: r.name,
      pathPrefix: r.match?.pathPrefix ?? '/',
      upstream: r.upstream,
      access: r.access,
    }
    if (r.match?.host !== undefined) route.hosts = new Set(r.match.host.map(canonicalHost))
    if (r.match?.methods !== undefined) {
      const methods = new Set(r.match.methods.map((m) => m.toUpperCase()))
      if (methods.has('GET')) methods.add('HEAD')
      route.methods = methods
    }
    return Object.freeze(route)
  })
  return Object.freeze({ routes: Object.freeze(compiled), establishments: homeEstablishments(structures, compiled) })
}

/** "Host.Example:8443" → "host.example"; "[::1]:80" → "[::1]"; a trailing dot is dropped. */
export function hostWithoutPort(host: string): string {
  let end = host.length
  if (host.charCodeAt(0) === 91) {
    // "[" IPv6 literal
    const close = host.indexOf(']')
    end = close === -1 ? host.length : close + 1
  } else {
    const colon = host.indexOf(':')
    if (colon !== -1) end = colon
  }
  return canonicalHost(end === host.length ? host : host.slice(0, end))
}

function pathMatches(prefix: string, path: string): boolean {
  if (prefix === '/') return true
  if (!path.startsWith(prefix)) return false
  return path.length === prefix.length || path.charCodeAt(prefix.length) === 47
}

export function matchRoute(
  table: RouteTable,
  req: { host: string | undefined; method: string; path: string },
): CompiledRoute | undefined {
  let host: string | undefined | null = null // null: not computed yet (most tables never need it)
  for (const route of table.routes) {
    if (route.methods !== undefined && !route.methods.has(req.method)) continue
    if (!pathMatches(route.pathPrefix, req.path)) continue
    if (route.hosts !== undefined) {
      if (host === null) host = req.host === undefined || req.host === '' ? undefined : hostWithoutPort(req.host)
      if (host === undefined || !route.hosts.has(host)) continue
    }
    return route
  }
  return undefined
}

/** A one-line summary of who may pass; national ids are counted, not listed. */
export function describeAccess(access: AccessConfig): string {
  if (typeof access === 'string') return access
  const parts: string[] = []
  if (access.professions) parts.push(`professions ${access.professions.join(',')}`)
  if (access.categories) parts.push(`categories ${access.categories.join(',')}`)
  if (access.specialties) parts.push(`specialties ${access.specialties.join(',')}`)
  if (access.idNat) parts.push(`idNat (${access.idNat.length} listed)`)
  if (access.structures) parts.push(`structures ${structureSetLabels(access.structures).join(',')}`)
  if (access.groups) parts.push(`groups ${access.groups.join(',')}`)
  else if (access.account) parts.push('account required')
  return parts.join(' & ')
}

/** The table as `psc-gateway check` prints it: one line per route, in matching order. */
export function describeRouteTable(table: RouteTable): string {
  const header = ['#', 'name', 'hosts', 'methods', 'path', 'upstream', 'access']
  const rows = table.routes.map((r) => [
    String(r.index + 1),
    r.name,
    r.hosts ? [...r.hosts].join(',') : '*',
    r.methods ? [...r.methods].filter((m) => !(m === 'HEAD' && r.methods!.has('GET'))).join(',') : '*',
    r.pathPrefix === '/' ? '/' : `${r.pathPrefix}/**`,
    r.upstream,
    describeAccess(r.access),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')
  return [line(header), ...rows.map(line)].join('\n')
}
