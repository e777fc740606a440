// The exercice in context (policy/exercice-in-context.ts), through the configuration loader: which
// exercice, and which of its structures, a request allowed by decideRequest is described with.
import t from 'tap'
import { loadConfigText } from '../../src/config/load.js'
import { decideRequest, type Outcome } from '../../src/policy/decide-request.js'
import { exerciceInContext, FIRST_EXERCICE, structureReference } from '../../src/policy/exercice-in-context.js'
import { compileRoutes, type CompiledRoute, type RouteTable } from '../../src/policy/rules.js'
import type { Exercice, Identity, Structure } from '../../src/psc/identity.js'
import { identityHeaderValues } from '../../src/proxy/identity-headers.js'

const CHU = '750000001'
const OTHER = '690000001'

function configWith(structures: string, routes: string) {
  return loadConfigText(
    `
publicUrl: https://dpi.hopital.fr
psc: { environment: bas, clientId: c, clientSecret: s }
session: { secrets: ["0123456789abcdef0123456789abcdef"] }
upstreams: { app: { url: "http://127.0.0.1:9" } }
${structures}
routes:
${routes}
`,
    '/etc/psc/gateway.yaml',
    {},
  ).config
}

const ROUTES = `
  - { name: chu, match: { pathPrefix: /chu }, upstream: app, access: { structures: [chu] } }
  - { name: infirmiers-chu, match: { pathPrefix: /soins }, upstream: app, access: { professions: ["60"], structures: [chu] } }
  - { name: medecins, match: { pathPrefix: /medecins }, upstream: app, access: { professions: ["10"] } }
  - { name: admins, match: { pathPrefix: /admin }, upstream: app, access: { idNat: ["810000000001"] } }
  - { name: public, match: { pathPrefix: /public }, upstream: app, access: public }
  - { name: app, upstream: app, access: authenticated }`
const config = configWith(`structures:\n  chu: { label: CHU, finess: ["${CHU}"] }`, ROUTES)
const table = compileRoutes(config.routes, config.structures)
const route = (table: RouteTable, name: string): CompiledRoute => table.routes.find((r) => r.name === name)!

const site = (finess: string, name: string): Structure => ({ id: `F${finess}`, name, finess })
const exercice = (professionCode: string, structures: Structure[], extra: Partial<Exercice> = {}): Exercice => ({
  professionCode,
  professionLabel: professionCode,
  structures,
  ...extra,
})
const who = (...exercices: Exercice[]): Identity => ({
  sub: 'f:x:810000000001',
  idNat: '810000000001',
  familyName: 'D',
  givenName: 'C',
  acr: 'eidas1',
  exercices,
})

// médecin at another hospital first, infirmier at the CHU second
const twoHospitals = who(
  exercice('10', [site(OTHER, 'HOPITAL DE LYON AUTRE')], { specialtyCode: 'SM26' }),
  exercice('60', [site(CHU, 'CHU')], { category: 'M' }),
)

function allowed(table: RouteTable, name: string, identity: Identity): Outcome & { kind: 'allow' } {
  const outcome = decideRequest({
    route: route(table, name),
    websocketEnabled: false,
    forwardsAccessToken: false,
    session: { state: 'alive', identity },
    request: { method: 'GET', kind: 'navigation', onPublicHost: true },
    psc: 'ready',
    establishments: table.establishments,
  })
  if (outcome.kind !== 'allow') throw new Error(`${name}: ${outcome.kind}`)
  return outcome
}

t.test('the decision names the exercice that satisfied the route', async (t) => {
  t.same(
    allowed(table, 'chu', twoHospitals).exercice,
    { exercice: 1, structure: 0 },
    'the CHU exercice, second in PSC order',
  )
  t.same(allowed(table, 'infirmiers-chu', twoHospitals).exercice, { exercice: 1, structure: 0 })
  t.same(
    allowed(table, 'medecins', twoHospitals).exercice,
    { exercice: 0, structure: 0 },
    "a doctors' route: the médecin exercice",
  )
  const headers = identityHeaderValues(
    twoHospitals,
    config.headers.identity,
    'percent',
    allowed(table, 'chu', twoHospitals).exercice,
  )
  t.equal(headers['x-psc-profession-code'], '60', 'the headers describe it')
  t.equal(headers['x-psc-specialty'], undefined, 'nothing of the first exercice')
})

t.test("the structure in context: the activity in the route's establishment, not the exercice's first", async (t) => {
  const twoSites = who(exercice('60', [site(OTHER, 'AUTRE'), site(CHU, 'CHU')]))
  t.same(allowed(table, 'chu', twoSites).exercice, { exercice: 0, structure: 1 })
  t.equal(structureReference(twoSites.exercices[0]!.structures[1]), CHU)
  t.same(
    allowed(table, 'app', twoSites).exercice,
    { exercice: 0, structure: 1 },
    'no condition: the structure at one of the configured establishments',
  )
})

t.test('a route with no exercice condition: at one of the configured establishments, else the first', async (t) => {
  for (const name of ['app', 'admins', 'public']) {
    t.same(allowed(table, name, twoHospitals).exercice, { exercice: 1, structure: 0 }, `${name}: the CHU exercice`)
  }
  const elsewhere = who(exercice('10', [site(OTHER, 'A')]), exercice('60', [site('130000001', 'B')]))
  t.equal(allowed(table, 'app', elsewhere).exercice, FIRST_EXERCICE, 'no exercice at the hospital: the first')
  const plain = configWith('', `  - { name: app, upstream: app, access: authenticated }`)
  const noSets = compileRoutes(plain.routes, plain.structures)
  t.equal(allowed(noSets, 'app', twoHospitals).exercice, FIRST_EXERCICE, 'no establishment configured: the first')
  t.equal(allowed(table, 'app', who()).exercice, FIRST_EXERCICE, 'no exercice at all: nothing to describe')
  const inline = configWith(
    '',
    `  - { name: bloc, match: { pathPrefix: /bloc }, upstream: app, access: { structures: [{ finess: ["${CHU}"] }] } }
  - { name: app, upstream: app, access: authenticated }`,
  )
  const inlineTable = compileRoutes(inline.routes, inline.structures)
  t.same(
    allowed(inlineTable, 'app', twoHospitals).exercice,
    { exercice: 1, structure: 0 },
    "a set written inside a route is one of the hospital's too",
  )
})

t.test("among several exercices that meet a route's conditions, the one at the hospital", async (t) => {
  const twoNurses = who(exercice('60', [site(OTHER, 'A')]), exercice('60', [site(CHU, 'CHU')]))
  const nurses = configWith(
    `structures:\n  chu: { finess: ["${CHU}"] }`,
    `  - { name: infirmiers, match: { pathPrefix: /soins }, upstream: app, access: { professions: ["60"] } }
  - { name: app, upstream: app, access: authenticated }`,
  )
  t.same(allowed(compileRoutes(nurses.routes, nurses.structures), 'infirmiers', twoNurses).exercice, {
    exercice: 1,
    structure: 0,
  })
})

t.test('the usual practitioner (one exercice at its first structure) costs no allocation', async (t) => {
  const one = who(exercice('10', [site(CHU, 'CHU')]))
  t.equal(exerciceInContext(route(table, 'app'), one, table.establishments), FIRST_EXERCICE)
  t.equal(exerciceInContext(route(table, 'chu'), one, table.establishments), FIRST_EXERCICE)
})
