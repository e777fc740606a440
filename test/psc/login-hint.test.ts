// What practitioners type into the CIBA form → the idNat sent to PSC as login_hint.
import fc from 'fast-check'
import t from 'tap'
import { MAX_LOGIN_HINT_LENGTH, normaliseLoginHint, rppsOfIdNat } from '../../src/psc/login-hint.js'

const idNat = (typed: unknown) => {
  const r = normaliseLoginHint(typed)
  return r.ok ? r.idNat : `!${r.problem}`
}

t.test('an RPPS number, as printed or typed, becomes 8 + RPPS', async (t) => {
  t.equal(idNat('99700218896'), '899700218896')
  t.equal(idNat('997 002 188 96'), '899700218896', 'groups of digits')
  t.equal(idNat(' 99700218896 '), '899700218896', 'surrounding spaces')
  t.equal(idNat('997\u00a0002\u202f188.96'), '899700218896', 'no-break spaces and dots from a copied PDF')
  t.equal(idNat('997-002-188-96'), '899700218896', 'dashes')
  t.same(normaliseLoginHint('99700218896'), { ok: true, idNat: '899700218896', kind: 'rpps' })
})

t.test('an idNat with its leading 8 is kept', async (t) => {
  t.equal(idNat('899700218896'), '899700218896')
  t.equal(idNat('8 99700218896'), '899700218896')
})

t.test('an ADELI number becomes 0 + ADELI; an ADELI idNat is kept', async (t) => {
  t.same(normaliseLoginHint('012345678'), { ok: true, idNat: '0012345678', kind: 'adeli' })
  t.equal(idNat('0012345678'), '0012345678')
})

t.test('other national identifiers of a known shape pass as typed', async (t) => {
  t.same(normaliseLoginHint('500000001815646/CPAT00045'), {
    ok: true,
    idNat: '500000001815646/CPAT00045',
    kind: 'other',
  })
  t.equal(idNat(' 3123456789/ABC12 '), '3123456789/ABC12', 'FINESS-based, surrounding spaces trimmed')
  t.equal(idNat('ANS20231122132732'), 'ANS20231122132732', 'a test account')
})

t.test('an identifier of no known shape is refused before anything is sent to PSC', async (t) => {
  t.equal(idNat('abc-12'), '!malformed', 'a dash inside letters is not a separator to drop')
  t.equal(idNat('abc12'), '!malformed')
  t.equal(idNat('12345'), '!malformed', 'a short number is not guessed into anything')
  t.equal(idNat('912345678901'), '!malformed', '12 digits not starting with 8 are not an RPPS idNat')
  t.equal(idNat('9970021889'), '!malformed', 'an RPPS with a digit missing')
  t.equal(idNat('997002188961'), '!malformed', 'an RPPS with a digit too many')
  t.equal(idNat('500000001815646/CPAT-00045'), '!malformed', 'separators inside an identifier with letters')
  t.equal(idNat('5000/CPAT00045'), '!malformed', 'neither FINESS nor SIRET before the "/"')
  t.equal(idNat('ans20231122132732'), '!malformed')
})

t.test('bad input is refused with the problem named', async (t) => {
  t.equal(idNat(''), '!empty')
  t.equal(idNat('   '), '!empty')
  t.equal(idNat(undefined), '!empty')
  t.equal(idNat(42), '!empty')
  t.equal(idNat('9970021889<script>'), '!invalid_characters')
  t.equal(idNat('99700218896\u0000'), '!invalid_characters')
  t.equal(idNat('x'.repeat(MAX_LOGIN_HINT_LENGTH + 1)), '!too_long')
  t.equal(idNat('1'.repeat(100_000)), '!too_long')
  t.equal(idNat('é'), '!invalid_characters')
})

t.test('rppsOfIdNat', async (t) => {
  t.equal(rppsOfIdNat('899700218896'), '99700218896')
  t.equal(rppsOfIdNat('0012345678'), undefined)
  t.equal(rppsOfIdNat('8997002188961'), undefined)
})

t.test(
  'property: never throws; a result is a short idNat of safe characters, and normalising it again keeps it',
  async () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.stringMatching(/^[0-9 .-]{0,30}$/), fc.anything()),
        (typed) => {
          const r = normaliseLoginHint(typed)
          if (!r.ok) return true
          if (!/^[A-Za-z0-9/]{1,64}$/.test(r.idNat)) return false
          const again = normaliseLoginHint(r.idNat)
          return again.ok && again.idNat === r.idNat
        },
      ),
      { numRuns: 5000 },
    )
  },
)

t.test('property: any 11-digit RPPS, however grouped, gives 8 + the digits', async () => {
  fc.assert(
    fc.property(
      fc.stringMatching(/^\d{11}$/),
      fc.array(fc.constantFrom(' ', '.', '-', '\u00a0'), { maxLength: 11 }),
      (rpps, seps) => {
        const typed = [...rpps].map((d, i) => d + (seps[i] ?? '')).join('')
        return idNat(typed) === `8${rpps}`
      },
    ),
  )
})
