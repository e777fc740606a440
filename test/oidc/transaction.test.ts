import fc from 'fast-check'
import t from 'tap'
import {
  addTransaction,
  decodeTransactions,
  encodeTransactions,
  MAX_PENDING_LOGINS,
  takeTransaction,
  type LoginTransaction,
} from '../../src/oidc/transaction.js'

const tx = (state: string, expiresAt = 10_000): LoginTransaction => ({
  state,
  nonce: `n${state}`,
  verifier: `v${state}`,
  returnTo: `/p/${state}`,
  expiresAt,
})

t.test('round trip, expiry and the bound on parallel logins', async (t) => {
  let list: LoginTransaction[] = []
  for (const s of ['a', 'b', 'c', 'd', 'e']) list = addTransaction(list, tx(s), 0)
  t.equal(list.length, MAX_PENDING_LOGINS, 'several tabs, but the cookie never grows past the bound')
  t.same(
    list.map((x) => x.state),
    ['e', 'd', 'c'],
    'newest kept',
  )
  t.same(decodeTransactions(encodeTransactions(list), 0), list)
  t.same(
    decodeTransactions(encodeTransactions([tx('old', 5), tx('new', 50)]), 10).map((x) => x.state),
    ['new'],
    'expired dropped',
  )
  const { found, rest } = takeTransaction(list, 'd')
  t.equal(found?.returnTo, '/p/d')
  t.same(
    rest.map((x) => x.state),
    ['e', 'c'],
  )
  t.equal(takeTransaction(rest, 'd').found, undefined, 'a state is usable once')
})

t.test('decoding never throws on garbage', async (t) => {
  for (const bad of [
    '',
    'x',
    '%%%',
    Buffer.from('{"a":1}').toString('base64url'),
    Buffer.from('[[1,2,3,4,5]]').toString('base64url'),
    'A'.repeat(10_000),
  ]) {
    t.same(decodeTransactions(bad, 0), [])
  }
  fc.assert(fc.property(fc.string(), (s) => Array.isArray(decodeTransactions(s, 0))))
  fc.assert(
    fc.property(fc.jsonValue(), (v) =>
      Array.isArray(decodeTransactions(Buffer.from(JSON.stringify(v) ?? '').toString('base64url'), 0)),
    ),
  )
})
