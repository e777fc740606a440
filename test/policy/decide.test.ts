import t from 'tap'
import { decideAccess } from '../../src/policy/decide.js'
import { compileRoutes } from '../../src/policy/rules.js'
import type { AccessConfig } from '../../src/config/schema.js'
import type { Exercice, Identity } from '../../src/psc/identity.js'

const routeWith = (access: AccessConfig) => compileRoutes([{ name: 'r', match: {}, upstream: 'u', access }]).routes[0]!

const exercice = (professionCode: string, category?: string, specialtyCode?: string): Exercice =>
  ({ professionCode, professionLabel: 'x', category, specialtyCode, structures: [] })

const person = (idNat: string, ...exercices: Exercice[]): Identity =>
  ({ sub: 'f:x:' + idNat, idNat, familyName: 'Dupont', givenName: 'Jean', acr: 'eidas1', exercices })

const doctor = person('810000000001', exercice('10', 'C', 'SM26'))
const pharmacist = person('810000000002', exercice('21', 'M'))
// a pharmacist who is a civil practitioner in one place and a biology doctor agent public in another
const twoHats = person('810000000003', exercice('21', 'C'), exercice('10', 'M', 'SM03'))
const noExercice = person('810000000004')

t.test('public and authenticated', async (t) => {
  t.same(decideAccess(routeWith('public'), undefined), { kind: 'allow' })
  t.same(decideAccess(routeWith('public'), doctor), { kind: 'allow' })
  t.same(decideAccess(routeWith('authenticated'), undefined), { kind: 'login' })
  t.same(decideAccess(routeWith('authenticated'), noExercice), { kind: 'allow' })
})

t.test('conditions need a login first', async (t) => {
  t.same(decideAccess(routeWith({ professions: ['10'] }), undefined), { kind: 'login' })
  t.same(decideAccess(routeWith({ idNat: ['1'] }), undefined), { kind: 'login' })
})

t.test('professions, categories, specialties', async (t) => {
  t.same(decideAccess(routeWith({ professions: ['10'] }), doctor), { kind: 'allow' })
  t.same(decideAccess(routeWith({ professions: ['21', '10'] }), doctor), { kind: 'allow' }, 'list values ORed')
  t.same(decideAccess(routeWith({ professions: ['10'] }), pharmacist), { kind: 'deny', reason: 'profession 21 not in [10]' })
  t.same(decideAccess(routeWith({ categories: ['M'] }), pharmacist), { kind: 'allow' })
  t.same(decideAccess(routeWith({ categories: ['M'] }), doctor), { kind: 'deny', reason: 'category C not in [M]' })
  t.same(decideAccess(routeWith({ specialties: ['SM26'] }), doctor), { kind: 'allow' })
  t.same(decideAccess(routeWith({ specialties: ['SM26'] }), pharmacist), { kind: 'deny', reason: 'specialty none not in [SM26]' })
  t.same(decideAccess(routeWith({ professions: ['10'], categories: ['M'] }), doctor), { kind: 'deny', reason: 'category C not in [M]' })
  t.same(decideAccess(routeWith({ professions: ['10'] }), noExercice), { kind: 'deny', reason: 'no professional exercice' })
})

t.test('all conditions must hold for one and the same exercice', async (t) => {
  // profession 10 (2nd exercice) and category C (1st exercice) both exist, but never together
  const d = decideAccess(routeWith({ professions: ['10'], categories: ['C'] }), twoHats)
  t.equal(d.kind, 'deny')
  if (d.kind === 'deny') {
    t.equal(d.reason, 'no single exercice qualifies: #1: profession 21 not in [10]; #2: category M not in [C]')
  }
  t.same(decideAccess(routeWith({ professions: ['10'], categories: ['M'], specialties: ['SM03'] }), twoHats), { kind: 'allow' })
  t.same(decideAccess(routeWith({ professions: ['21'], categories: ['C'] }), twoHats), { kind: 'allow' })
  t.same(decideAccess(routeWith({ professions: ['10'] }), twoHats), { kind: 'allow' }, 'any exercice may qualify')
})

t.test('idNat', async (t) => {
  t.same(decideAccess(routeWith({ idNat: ['810000000001'] }), doctor), { kind: 'allow' })
  const d = decideAccess(routeWith({ idNat: ['810000000001'] }), pharmacist)
  t.same(d, { kind: 'deny', reason: 'national id not in the allowed list' })
  t.notMatch(JSON.stringify(d), /810000000002/, 'the idNat is not in the reason')
  t.same(decideAccess(routeWith({ idNat: ['810000000001'], professions: ['21'] }), doctor), { kind: 'deny', reason: 'profession 10 not in [21]' })
  t.same(decideAccess(routeWith({ idNat: ['810000000002'], professions: ['21'] }), pharmacist), { kind: 'allow' })
})
