// The stored copy of a CIBA request, as another replica reads it back: what it wrote round-trips,
// anything else (a foreign shape, a redirect off the site, a failure kind it does not know) is
// refused rather than trusted.
import t from 'tap'
import { fromShared, sharedKey, sharedText, type CibaRequest } from '../../../src/oidc/ciba/request.js'

const ID = 'a'.repeat(43)
const pending: CibaRequest = {
  id: ID,
  ref: 'ref-0123456789ab',
  idNat: '899700218896',
  client: '10.0.0.2',
  bindingMessage: '42',
  returnTo: '/dossier/42?onglet=bio',
  expiresAt: 1_700_000_000_000,
  state: 'pending',
}

t.test('what a replica writes, another reads back, without the id', async (t) => {
  const text = sharedText(pending)
  t.notMatch(text, ID, 'the id the cookie carries is not in the stored text')
  t.same(fromShared(ID, text), pending)
  const failed = { ...pending, state: 'failed' as const, failure: 'denied' as const, reason: 'access_denied' }
  t.same(fromShared(ID, sharedText(failed)), failed)
})

t.test('the key is a hash of the id', async (t) => {
  t.notMatch(sharedKey(ID), ID)
  t.equal(sharedKey(ID), sharedKey(ID))
  t.not(sharedKey(ID), sharedKey('b'.repeat(43)))
})

t.test('a copy that is not one of ours is refused', async (t) => {
  const over = (o: object) => JSON.stringify({ ...JSON.parse(sharedText(pending)), ...o })
  const cases: [string, string | undefined][] = [
    ['nothing', undefined],
    ['not JSON', '{'],
    ['not an object', '"pending"'],
    ['a return path off the site', over({ returnTo: 'https://evil.example/' })],
    ['a protocol-relative return path', over({ returnTo: '//evil.example/' })],
    ['an unknown failure kind', over({ state: 'failed', failure: 'some-new-failure' })],
    ['an unknown state', over({ state: 'done' })],
    ['approved with no session fields', over({ state: 'approved' })],
    ['no expiry', over({ expiresAt: 'soon' })],
  ]
  for (const [name, raw] of cases) t.equal(fromShared(ID, raw), undefined, name)
})
