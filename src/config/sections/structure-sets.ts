// structures: named establishments (FINESS site/juridique, SIRET, structure ids) that routes use in
// `access.structures`. Named sets are replaced in each route by the set itself at conversion
// (routes.ts), so the policy reads plain data; an unknown name is an error at its key. A route's
// account conditions (groups, account) need the accounts section (accounts.ts): checked here too.
import { Type, type Static } from '@sinclair/typebox'
import { closest } from '../closest.js'
import { NonEmpty } from '../formats.js'
import type { RawConfig } from '../schema.js'

const Finess = Type.String({
  pattern: '^[0-9][0-9AB][0-9]{7}$',
  description: 'A FINESS number: 9 characters, e.g. "750000001" (2A/2B for Corsica)',
})
export const StructureSetSchema = Type.Object(
  {
    label: Type.Optional(NonEmpty('The establishment\'s name as the refusal page shows it, e.g. "CHU de Saint-Œuf"')),
    finess: Type.Optional(Type.Array(Finess, { minItems: 1, description: 'FINESS of the site (numeroFinessSite)' })),
    finessLegal: Type.Optional(
      Type.Array(Finess, {
        minItems: 1,
        description: 'FINESS of the legal entity (numeroFinessetablissementJuridique)',
      }),
    ),
    siret: Type.Optional(
      Type.Array(Type.String({ pattern: '^[0-9]{14}$', description: 'A SIRET number: 14 digits' }), {
        minItems: 1,
        description: 'SIRET of the site (numeroSiretSite)',
      }),
    ),
    id: Type.Optional(
      Type.Array(NonEmpty('A structure technical id (identifiantTechniqueDeLaStructure)'), { minItems: 1 }),
    ),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description: 'An establishment: a structure of an exercice belongs to it when any one of its numbers is listed',
  },
)
export type StructureSetConfig = Static<typeof StructureSetSchema>

export const AccessStructures = Type.Optional(
  Type.Array(
    Type.Union([
      Type.String({
        pattern: '^[A-Za-z0-9_.-]+$',
        description: 'The name of a set declared under the top-level "structures"',
      }),
      StructureSetSchema,
    ]),
    {
      minItems: 1,
      description: 'The exercice that meets the other conditions must be practised in one of these establishments',
    },
  ),
)

export const StructuresSchema = Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }), StructureSetSchema, {
  additionalProperties: false,
  description: 'Named establishments, written once and used by routes: access: { structures: [chu] }',
})

/** Reports a problem at a key of the file. */
export type Err = (path: string[], message: string, atKey?: boolean) => void

/** The structure sets every route names, resolved in place; returns the routes' new access values. */
export function resolveRouteStructures(raw: RawConfig, err: Err): RawConfig['routes'] {
  const sets = raw.structures ?? {}
  const names = Object.keys(sets)
  return raw.routes.map((route, i) => {
    const access = route.access
    if (typeof access === 'string') return route
    const at = ['routes', String(i), 'access']
    if ((access.groups !== undefined || access.account !== undefined) && raw.accounts === undefined) {
      const key = access.groups !== undefined ? 'groups' : 'account'
      err(
        [...at, key],
        `"${key}" needs a source of local accounts: add an "accounts" section (source: file or ldap)`,
        true,
      )
    }
    if (access.structures === undefined) return route
    const structures = access.structures.map((entry, j): StructureSetConfig | string => {
      if (typeof entry !== 'string') return entry
      const set = Object.hasOwn(sets, entry) ? sets[entry] : undefined
      if (set === undefined) {
        const close = closest(entry, names)
        err(
          [...at, 'structures', String(j)],
          `unknown structure set "${entry}"` +
            (close !== undefined
              ? ` (did you mean "${close}"?)`
              : names.length > 0
                ? ` (declared under "structures": ${names.join(', ')})`
                : ' (no set is declared under the top-level "structures")'),
        )
        return entry
      }
      return { label: set.label ?? entry, ...set }
    })
    return { ...route, access: { ...access, structures } }
  })
}

export const ignore: Err = () => {}

/** The routes with each named structure set replaced by the set (for a file that passed the checks). */
export function expandRouteStructures(raw: RawConfig): RawConfig['routes'] {
  return resolveRouteStructures(raw, ignore)
}
