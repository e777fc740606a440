// The identity headers of a session are computed once per identity object, exercice in context and
// configuration (proxy/forward.ts identityHeadersOf): a refreshed identity, another exercice or a
// reload gives the headers anew. (End to end, test/integration/accounts.test.ts checks that an
// account found again by a refresh is in the headers of the next request.)
import t from 'tap'
import type { ExerciceInContext } from '../../src/policy/exercice-in-context.js'
import { identityHeadersOf } from '../../src/proxy/forward.js'
import { encodeHeaderValue } from '../../src/proxy/identity-headers.js'
import { compileForwardingRules } from '../../src/proxy/forwarding-rules.js'
import { doctor, unitConfig } from '../helpers/unit.js'

const FIRST: ExerciceInContext = { exercice: 0, structure: 0 }

t.test('one identity, one exercice, one configuration: the headers are computed once', async (t) => {
  const rules = compileForwardingRules(unitConfig())
  const identity = doctor()
  const first = identityHeadersOf(identity, rules, FIRST)
  t.equal(first['x-psc-idnat'], identity.idNat)
  t.equal(
    identityHeadersOf(identity, rules, { exercice: 0, structure: 0 }),
    first,
    'the same object, not computed again',
  )
})

t.test('a refreshed identity (a new object, as token and account refreshes make) changes the headers', async (t) => {
  const rules = compileForwardingRules(unitConfig())
  const before = doctor()
  const name = encodeHeaderValue(before.familyName, 'percent')
  t.equal(identityHeadersOf(before, rules, FIRST)['x-psc-family-name'], name)
  const refreshed = { ...before, familyName: 'Nouveau-Nom' }
  const after = identityHeadersOf(refreshed, rules, FIRST)
  t.equal(after['x-psc-family-name'], 'Nouveau-Nom')
  t.equal(identityHeadersOf(before, rules, FIRST)['x-psc-family-name'], name, 'the old record keeps its own')
})

t.test('another exercice in context, or a reload, gives its own headers', async (t) => {
  const config = unitConfig()
  const rules = compileForwardingRules(config)
  const identity = doctor()
  identity.exercices.push({ ...identity.exercices[0]!, professionCode: '21', professionLabel: 'Pharmacien' })
  const first = identityHeadersOf(identity, rules, FIRST)
  const second = identityHeadersOf(identity, rules, { exercice: 1, structure: 0 })
  t.not(second, first)
  t.equal(second['x-psc-profession-code'], '21')
  t.equal(identityHeadersOf(identity, rules, FIRST), first, 'both kept for the session')
  const reloaded = compileForwardingRules({
    ...config,
    headers: { ...config.headers, identity: [{ header: 'X-Who', field: 'idNat' }] },
  })
  t.same(identityHeadersOf(identity, reloaded, FIRST), { 'x-who': identity.idNat }, 'the new configuration is applied')
})
