// routes: the ordered route table (first match wins) and who may pass each route.
import { Type } from '@sinclair/typebox'
import type { Checks, ConfigSection } from '../checks.js'
import { NonEmpty, PathPrefix } from '../formats.js'
import { routeReachability, type RouteReach } from '../../policy/route-reachability.js'
import type { RawConfig, RouteConfig } from '../schema.js'
import { closest } from '../closest.js'
import { AccessAccount, AccessGroups } from './accounts.js'
import { AccessStructures, expandRouteStructures } from './structure-sets.js'

const AccessSchema = Type.Union([
  Type.Literal('public', { description: 'Anyone, logged in or not (identity headers are still stripped)' }),
  Type.Literal('authenticated', { description: 'Any practitioner logged in through PSC' }),
  Type.Object(
    {
      professions: Type.Optional(Type.Array(NonEmpty('A TRE_G15 profession code, e.g. "10"'), { minItems: 1 })),
      categories: Type.Optional(
        Type.Array(Type.String({ pattern: '^[A-Z]$', description: 'A category letter: C, M or E' }), {
          minItems: 1,
          description: 'C civil, M agent public, E étudiant',
        }),
      ),
      specialties: Type.Optional(Type.Array(NonEmpty('A codeSavoirFaire, e.g. "SM26"'), { minItems: 1 })),
      idNat: Type.Optional(Type.Array(NonEmpty('A national identifier'), { minItems: 1 })),
      structures: AccessStructures,
      groups: AccessGroups,
      account: AccessAccount,
    },
    {
      additionalProperties: false,
      minProperties: 1,
      description:
        'Conditions, all of which must hold (fields ANDed, list values ORed). ' +
        'professions, categories and specialties must all hold for one and the same exercice.',
    },
  ),
])

const RouteSchema = Type.Object(
  {
    name: Type.String({
      pattern: '^[A-Za-z0-9_.-]+$',
      description: 'A unique name, shown in logs, audit and the 403 page',
    }),
    match: Type.Object(
      {
        host: Type.Optional(
          Type.Array(NonEmpty('A host name, compared case-insensitively, without port'), { minItems: 1 }),
        ),
        pathPrefix: Type.Optional(PathPrefix),
        methods: Type.Optional(
          Type.Array(Type.String({ pattern: '^[A-Z]+$', description: 'An HTTP method in upper case, e.g. GET' }), {
            minItems: 1,
          }),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    upstream: NonEmpty('The name of an upstream declared under "upstreams"'),
    access: AccessSchema,
  },
  { additionalProperties: false },
)

export const RoutesSchema = Type.Array(RouteSchema, {
  minItems: 1,
  description: 'Ordered: the first matching rule wins',
})

/** A route as the gateway reads it: pathPrefix is always set ("/" = everything). */
export type RouteSettings = RouteConfig & { match: RouteConfig['match'] & { pathPrefix: string } }

function checkReferences(raw: RawConfig, checks: Checks): void {
  const upstreamNames = Object.keys(raw.upstreams)
  const seenNames = new Map<string, number>()
  raw.routes.forEach((r, i) => {
    const at = ['routes', String(i)]
    if (!Object.hasOwn(raw.upstreams, r.upstream)) {
      const close = closest(r.upstream, upstreamNames)
      checks.error(
        [...at, 'upstream'],
        `unknown upstream "${r.upstream}"` +
          (close !== undefined ? ` (did you mean "${close}"?)` : ` (declared upstreams: ${upstreamNames.join(', ')})`),
      )
    }
    const first = seenNames.get(r.name)
    if (first !== undefined) {
      checks.error(
        [...at, 'name'],
        `duplicate route name "${r.name}" (already used by routes[${first}]${checks.lineOf(['routes', String(first)])})`,
      )
    } else {
      seenNames.set(r.name, i)
    }
    const methods = r.match.methods
    if (methods !== undefined && new Set(methods).size !== methods.length) {
      checks.error([...at, 'match', 'methods'], 'a method is listed twice')
    }
  })
}

function deadPrefixMessage(prefix: string, dead: NonNullable<RouteReach['deadPrefix']>): string {
  if (dead.reserved !== undefined)
    return `${prefix} can never match: paths under "${dead.reserved}" are the gateway's own endpoints (prefix)`
  if (dead.normalised !== undefined)
    return `${prefix} can never match: request paths are normalised before matching, and this one becomes ${JSON.stringify(dead.normalised)}`
  return `${prefix} can never match: a request with this path is refused (${dead.refused ?? 'not a path'})`
}

function reachIssues(routes: RouteConfig[], i: number, reach: RouteReach, checks: Checks): void {
  const at = ['routes', String(i)]
  const route = routes[i]!
  for (const k of reach.deadHosts) {
    checks.error(
      [...at, 'match', 'host', String(k)],
      `host ${JSON.stringify(route.match.host![k])} can never match: a request's host is compared in lower case, without its port and its trailing dot`,
    )
  }
  const dead = reach.deadPrefix
  if (dead !== undefined) {
    const prefix = JSON.stringify(route.match.pathPrefix)
    checks.error([...at, 'match', 'pathPrefix'], deadPrefixMessage(prefix, dead))
  }
  if (reach.reachable || reach.shadowedBy.length === 0) return
  const named = reach.shadowedBy.map(
    (j) => `"${routes[j]!.name}" (routes[${j}]${checks.lineOf(['routes', String(j)])})`,
  )
  checks.error(
    at,
    reach.shadowedBy.length === 1
      ? `route "${route.name}" can never match: route ${named[0]!} comes first and matches every request it would match`
      : `route "${route.name}" can never match: routes ${named.slice(0, -1).join(', ')} and ${named[named.length - 1]!} come first and together match every request it would match`,
  )
}

export const routes: ConfigSection<'routes' | 'structures'> = {
  check(raw, checks) {
    checkReferences(raw, checks)
    routeReachability(raw.routes, raw.prefix).forEach((reach, i) => {
      reachIssues(raw.routes, i, reach, checks)
    })
  },
  convert(raw) {
    return {
      // named structure sets replaced by the sets themselves (accounts.ts)
      routes: expandRouteStructures(raw).map((r) =>
        structuredClone({ ...r, match: { ...r.match, pathPrefix: r.match.pathPrefix ?? '/' } }),
      ),
      // the hospital's own establishments: where the exercice in context is looked for first (policy/exercice-in-context.ts)
      structures: Object.fromEntries(
        Object.entries(raw.structures ?? {}).map(([name, set]) => [
          name,
          structuredClone({ label: set.label ?? name, ...set }),
        ]),
      ),
    }
  },
}
