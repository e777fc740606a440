import t from 'tap'
import { decideAccess, describeDenial } from '../../src/policy/decide.js'
import { compileRoutes } from '../../src/policy/rules.js'
import type { AccessConfig } from '../../src/config/schema.js'
import type { Exercice, Identity } from '../../src/psc/identity.js'

const routeWith = (access: AccessConfig) => compileRoutes([{ name: 'r', match: {}, upstream: 'u', access }]).routes[0]!

const exercice = (professionCode: string, category?: string, specialtyCode?: string): Exercice => ({
  professionCode,
  professionLabel: 'x',
  category,
  specialtyCode,
  structures: [],
})

const person = (idNat: string, ...exercices: Exercice[]): Identity => ({
  sub: `f:x:${idNat}`,
  idNat,
  familyName: 'Dupont',
  givenName: 'Jean',
  acr: 'eidas1',
  exercices,
})

const doctor = person('810000000001', exercice('10', 'C', 'SM26'))
const pharmacist = person('810000000002', exercice('21', 'M'))
// a pharmacist who is a civil practitioner in one place and a biology doctor agent public in another
const twoHats = person('810000000003', exercice('21', 'C'), exercice('10', 'M', 'SM03'))
const noExercice = person('810000000004')

const deny = (access: AccessConfig, who: Identity) => {
  const v = decideAccess(routeWith(access), who)
  if (v.kind !== 'deny') throw new Error(`expected a denial, got ${JSON.stringify(v)}`)
  return { code: v.code, details: v.details, text: describeDenial(v.details) }
}

t.test('public and authenticated routes have no conditions', async (t) => {
  t.same(decideAccess(routeWith('public'), doctor), { kind: 'allow' })
  t.same(decideAccess(routeWith('authenticated'), noExercice), { kind: 'allow' })
})

t.test('professions, categories, specialties: coded denials with what is allowed and what is held', async (t) => {
  t.same(decideAccess(routeWith({ professions: ['10'] }), doctor), { kind: 'allow' })
  t.same(decideAccess(routeWith({ professions: ['21', '10'] }), doctor), { kind: 'allow' }, 'list values ORed')
  t.same(deny({ professions: ['10'] }, pharmacist), {
    code: 'PSC_ERR_DENIED_PROFESSION',
    details: { condition: 'profession', allowed: ['10'], held: ['21'] },
    text: 'profession 21 not in [10]',
  })
  t.same(decideAccess(routeWith({ categories: ['M'] }), pharmacist), { kind: 'allow' })
  t.same(deny({ categories: ['M'] }, doctor), {
    code: 'PSC_ERR_DENIED_CATEGORY',
    details: { condition: 'category', allowed: ['M'], held: ['C'] },
    text: 'category C not in [M]',
  })
  t.same(decideAccess(routeWith({ specialties: ['SM26'] }), doctor), { kind: 'allow' })
  t.same(deny({ specialties: ['SM26'] }, pharmacist), {
    code: 'PSC_ERR_DENIED_SPECIALTY',
    details: { condition: 'specialty', allowed: ['SM26'], held: [''] },
    text: 'specialty none not in [SM26]',
  })
  t.equal(
    deny({ professions: ['10'], categories: ['M'] }, doctor).code,
    'PSC_ERR_DENIED_CATEGORY',
    'the condition that failed is named',
  )
  t.same(deny({ professions: ['10'] }, noExercice), {
    code: 'PSC_ERR_DENIED_NO_EXERCICE',
    details: { condition: 'exercice', allowed: [], held: [] },
    text: 'no professional exercice',
  })
})

t.test('all conditions must hold for one and the same exercice', async (t) => {
  // profession 10 (2nd exercice) and category C (1st exercice) both exist, but never together
  const d = deny({ professions: ['10'], categories: ['C'] }, twoHats)
  t.equal(d.code, 'PSC_ERR_DENIED_EXERCICE')
  t.same(d.details.held, ['21/C/', '10/M/SM03'])
  t.same(decideAccess(routeWith({ professions: ['10'], categories: ['M'], specialties: ['SM03'] }), twoHats), {
    kind: 'allow',
  })
  t.same(decideAccess(routeWith({ professions: ['21'], categories: ['C'] }), twoHats), { kind: 'allow' })
  t.same(decideAccess(routeWith({ professions: ['10'] }), twoHats), { kind: 'allow' }, 'any exercice may qualify')
  const both = deny({ professions: ['60'] }, twoHats)
  t.same(
    [both.code, both.details.held],
    ['PSC_ERR_DENIED_PROFESSION', ['21', '10']],
    'every exercice is listed when all fail on the profession',
  )
})

t.test('idNat', async (t) => {
  t.same(decideAccess(routeWith({ idNat: ['810000000001'] }), doctor), { kind: 'allow' })
  const d = deny({ idNat: ['810000000001'] }, pharmacist)
  t.equal(d.code, 'PSC_ERR_DENIED_IDNAT')
  t.notMatch(
    JSON.stringify(d),
    /81000000000[12]/,
    "no national id in the denial, neither the practitioner's nor the list's",
  )
  t.equal(deny({ idNat: ['810000000001'], professions: ['21'] }, doctor).code, 'PSC_ERR_DENIED_PROFESSION')
  t.same(decideAccess(routeWith({ idNat: ['810000000002'], professions: ['21'] }), pharmacist), { kind: 'allow' })
})
