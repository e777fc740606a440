// Which login a page offers: the PSC redirect, the e-CPS notification (CIBA), or both. Per route
// (by name), else per host, else psc.ciba.mode. Pure.
import type { CibaMode, CibaSettings } from '../../config/types.js'
import { matchRoute, type RouteTable } from '../../policy/rules.js'

export function cibaModeFor(
  settings: CibaSettings,
  routes: RouteTable,
  host: string | undefined,
  returnTo: string,
): CibaMode {
  if (!settings.enabled) return 'redirect'
  const q = returnTo.indexOf('?')
  const path = q === -1 ? returnTo : returnTo.slice(0, q)
  const route = matchRoute(routes, { host, method: 'GET', path })
  const byRoute = route === undefined ? undefined : settings.routes[route.name]
  if (byRoute !== undefined) return byRoute
  const hostname = host?.replace(/:\d+$/, '').toLowerCase()
  const byHost = hostname === undefined ? undefined : settings.hosts[hostname]
  return byHost ?? settings.mode
}
