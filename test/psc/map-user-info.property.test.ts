// identityFromPsc must survive anything PSC (or an attacker in the middle) could send: the only
// exception allowed is PscIdentityError.
import fc from 'fast-check'
import t from 'tap'
import { identityFromPsc, PscIdentityError } from '../../src/psc/map-user-info.js'

const pscLike = fc.record(
  {
    SubjectNameID: fc.oneof(fc.string(), fc.jsonValue()),
    preferred_username: fc.oneof(fc.string(), fc.jsonValue()),
    given_name: fc.jsonValue(),
    family_name: fc.jsonValue(),
    codeCivilite: fc.jsonValue(),
    SubjectRole: fc.oneof(
      fc.array(fc.oneof(fc.string(), fc.constant('10^1.2.250.1.213.1.1.5.5'), fc.jsonValue())),
      fc.jsonValue(),
    ),
    SubjectRefPro: fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          codeCivilite: fc.jsonValue(),
          exercices: fc.oneof(
            fc.jsonValue(),
            fc.array(
              fc.oneof(
                fc.jsonValue(),
                fc.record(
                  {
                    codeProfession: fc.oneof(fc.constantFrom('10', '93', '', '__proto__'), fc.jsonValue()),
                    codeCategorieProfessionnelle: fc.jsonValue(),
                    nomDexercice: fc.jsonValue(),
                    prenomDexercice: fc.jsonValue(),
                    activities: fc.oneof(fc.jsonValue(), fc.array(fc.dictionary(fc.string(), fc.jsonValue()))),
                  },
                  { requiredKeys: [] },
                ),
              ),
            ),
          ),
        },
        { requiredKeys: [] },
      ),
    ),
  },
  { requiredKeys: [] },
)

function check(userinfo: unknown, idToken: unknown): boolean {
  try {
    const identity = identityFromPsc(userinfo, idToken as { sub: string })
    return (
      typeof identity.idNat === 'string' &&
      identity.idNat.trim() !== '' &&
      typeof identity.familyName === 'string' &&
      typeof identity.givenName === 'string' &&
      typeof identity.acr === 'string' &&
      Array.isArray(identity.exercices) &&
      identity.exercices.every((e) => typeof e.professionLabel === 'string' && Array.isArray(e.structures)) &&
      (identity.rpps === undefined || /^\d{11}$/.test(identity.rpps))
    )
  } catch (err) {
    return err instanceof PscIdentityError
  }
}

t.test('never throws anything but PscIdentityError, for arbitrary JSON', async (t) => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.jsonValue(), (userinfo, idToken) => check(userinfo, idToken)),
    { numRuns: 2000 },
  )
  fc.assert(
    fc.property(fc.jsonValue(), (userinfo) => check(userinfo, { sub: 'f:x:y', acr: 'eidas1' })),
    { numRuns: 2000 },
  )
  t.pass()
})

t.test('never throws anything but PscIdentityError, for PSC-shaped JSON', async (t) => {
  fc.assert(
    fc.property(
      pscLike,
      fc.record(
        { sub: fc.oneof(fc.string(), fc.jsonValue()), acr: fc.jsonValue(), authMode: fc.jsonValue() },
        { requiredKeys: [] },
      ),
      (u, id) => check(u, id),
    ),
    { numRuns: 3000 },
  )
  t.pass()
})
