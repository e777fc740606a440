import { readFileSync } from 'node:fs'
import t from 'tap'
import { loadPractitioners, pscClaimsFor, pscIdTokenClaimsFor, pscSubFor } from '../../dev/emulator/index.js'
import { identityFromPsc, primaryExercice, PscIdentityError, rppsFromIdNat } from '../../src/psc/map-user-info.js'

const example = JSON.parse(
  readFileSync(new URL('../fixtures/userinfo-example.json', import.meta.url), 'utf8'),
) as Record<string, unknown>
const idToken = { sub: 'f:550dc1c8-d97b-4b1e-ac8c-8eb4471cf9dd:ANS20231122132732', acr: 'eidas1', authMode: 'CARD' }

t.test('maps the real-shaped PSC payload', async (t) => {
  const identity = identityFromPsc(example, idToken)
  t.same(identity, {
    sub: idToken.sub,
    idNat: 'ANS20231122132732',
    familyName: 'Grominoch',
    givenName: 'Fistinien',
    civility: 'M',
    acr: 'eidas1',
    authMode: 'CARD',
    exercices: [
      {
        professionCode: '80',
        professionLabel: 'Pédicure-Podologue',
        category: 'C',
        familyName: 'Grominoch',
        givenName: 'Fistinien',
        structures: [{ id: 'R81311', name: 'CABINET INDIVIDUEL PEDI PODO0023704', sector: 'SA07' }],
      },
    ],
  })
  t.equal(identity.rpps, undefined, 'ANS test account: no RPPS')
  t.notOk('specialtyCode' in (identity.exercices[0] ?? {}), '"" becomes absent, not ""')
  t.equal(primaryExercice(identity)?.professionCode, '80')
})

t.test('maps every shipped practitioner through the emulator claim builder', async (t) => {
  const practitioners = await loadPractitioners(new URL('../../config/practitioners.yaml', import.meta.url).pathname)
  for (const p of practitioners) {
    const identity = identityFromPsc(JSON.parse(JSON.stringify(pscClaimsFor(p))), {
      sub: pscSubFor(p),
      acr: p.acr,
      ...pscIdTokenClaimsFor(p),
    })
    t.equal(identity.idNat, p.idNat)
    t.equal(identity.sub, pscSubFor(p))
    t.equal(identity.givenName, p.givenName)
    t.equal(identity.familyName, p.familyName)
    t.equal(identity.civility, p.civility)
    t.equal(identity.acr, p.acr)
    t.equal(identity.authMode, p.authMode)
    t.same(
      identity.exercices.map((e) => e.professionCode),
      p.exercices.map((e) => e.professionCode),
    )
    t.same(
      identity.exercices.map((e) => e.structures.map((s) => s.id)),
      p.exercices.map((e) => e.structures.map((s) => s.id)),
    )
  }
  const by = (idNat: string) => {
    const p = practitioners.find((x) => x.idNat === idNat)
    if (!p) throw new Error(`missing practitioner ${idNat}`)
    return identityFromPsc(pscClaimsFor(p), { sub: pscSubFor(p), acr: p.acr, authMode: p.authMode })
  }
  const elodie = by('899700218896')
  t.equal(elodie.rpps, '99700218896')
  t.match(elodie.exercices[0], {
    professionCode: '10',
    professionLabel: 'Médecin',
    category: 'C',
    specialtyCode: 'SM26',
    specialtyType: 'S',
    civility: 'DR',
  })
  t.match(elodie.exercices[0]?.structures[0], { name: 'Centre Hospitalier de Saint-Œuf', finess: '750000001' })
  t.equal(by('899700367915').exercices[0]?.professionLabel, 'Pharmacien')
  const anne = by('0012345678')
  t.equal(anne.rpps, undefined, 'ADELI idNat has no RPPS')
  t.equal(anne.exercices[0]?.category, 'M')
  const zoe = by('899700412345')
  t.equal(zoe.acr, 'eidas2')
  t.same(
    zoe.exercices.map((e) => [e.professionLabel, e.specialtyCode]),
    [
      ['Médecin', 'SM54'],
      ['Sage-Femme', undefined],
    ],
  )
  const marc = by('500000001815646/CPAT00045')
  t.equal(marc.rpps, undefined)
  t.equal(marc.acr, 'eidas3')
  t.equal(marc.authMode, 'MOBILE')
  t.equal(by('899700555555').exercices[0]?.category, 'E')
  const psy = by('899700999993')
  t.equal(psy.exercices[0]?.professionCode, '93')
  t.equal(psy.exercices[0]?.professionLabel, '')
})

t.test('empty strings become absent', async (t) => {
  const identity = identityFromPsc(
    {
      SubjectNameID: '899700218896',
      given_name: '',
      family_name: '',
      codeCivilite: '',
      SubjectRefPro: {
        codeCivilite: '',
        exercices: [
          {
            codeProfession: '',
            codeCategorieProfessionnelle: '',
            codeCiviliteDexercice: '',
            nomDexercice: '',
            prenomDexercice: '',
            codeTypeSavoirFaire: '',
            codeSavoirFaire: '',
            activities: [{ identifiantTechniqueDeLaStructure: '', raisonSocialeSite: '', numeroFinessSite: '' }],
          },
        ],
      },
    },
    { sub: 's', acr: '' },
  )
  t.same(identity, {
    sub: 's',
    idNat: '899700218896',
    rpps: '99700218896',
    familyName: '',
    givenName: '',
    acr: '',
    exercices: [{ professionCode: '', professionLabel: '', structures: [{}] }],
  })
})

t.test('fallbacks: preferred_username, exercice names, SubjectRefPro civility, userinfo acr', async (t) => {
  const identity = identityFromPsc(
    {
      SubjectNameID: '',
      preferred_username: '899700218896',
      SubjectRefPro: {
        codeCivilite: 'MME',
        exercices: [{ codeProfession: '10', nomDexercice: 'Lefèvre', prenomDexercice: 'Élodie', activities: [] }],
      },
      acr: 'eidas2',
    },
    { sub: 's' },
  )
  t.equal(identity.idNat, '899700218896')
  t.equal(identity.familyName, 'Lefèvre')
  t.equal(identity.givenName, 'Élodie')
  t.equal(identity.civility, 'MME')
  t.equal(identity.acr, 'eidas2')
  t.equal(
    identityFromPsc({ SubjectNameID: 'x', acr: 'eidas2' }, { sub: 's', acr: 'eidas1' }).acr,
    'eidas1',
    'ID token wins',
  )
  t.equal(
    identityFromPsc({ SubjectNameID: 'x', codeCivilite: 'M', SubjectRefPro: { codeCivilite: 'MME' } }, { sub: 's' })
      .civility,
    'M',
  )
})

t.test('exercices derived from SubjectRole when SubjectRefPro has none', async (t) => {
  const identity = identityFromPsc(
    {
      SubjectNameID: 'x',
      SubjectRole: [
        '10^1.2.250.1.213.1.1.5.5',
        '93^1.2.250.1.213.1.1.5.5',
        '10^1.2.250.1.213.1.1.5.5',
        'junk',
        '^1.2.250.1',
        42,
      ],
    },
    { sub: 's' },
  )
  t.same(identity.exercices, [
    { professionCode: '10', professionLabel: 'Médecin', structures: [] },
    { professionCode: '93', professionLabel: '', structures: [] },
  ])
  t.same(identityFromPsc({ SubjectNameID: 'x', SubjectRefPro: { exercices: [] } }, { sub: 's' }).exercices, [])
})

t.test('missing or wrong-typed fields never throw (except idNat)', async (t) => {
  const weird: unknown[] = [null, 0, 42, true, [], ['a'], {}, 'text', { a: 1 }]
  for (const value of weird) {
    const userinfo = {
      SubjectNameID: 'ANS1',
      given_name: value,
      family_name: value,
      codeCivilite: value,
      SubjectRole: value,
      SubjectRefPro: {
        codeCivilite: value,
        exercices: [
          value,
          { codeProfession: value, codeCategorieProfessionnelle: value, codeSavoirFaire: value, activities: value },
          { activities: [value, { raisonSocialeSite: value }] },
        ],
      },
    }
    const identity = identityFromPsc(userinfo, { sub: 's', acr: value, authMode: value })
    t.equal(identity.idNat, 'ANS1')
    t.type(identity.givenName, 'string')
    t.type(identity.acr, 'string')
    t.ok(identity.authMode === undefined || typeof identity.authMode === 'string')
    for (const e of identity.exercices) t.type(e.professionLabel, 'string')
  }
  t.same(identityFromPsc({ SubjectNameID: 'x', SubjectRefPro: 'nope' }, { sub: 's' }).exercices, [])
  t.equal(
    identityFromPsc({ SubjectNameID: 'x', SubjectRefPro: { exercices: [{ codeProfession: 10 }] } }, { sub: 's' })
      .exercices[0]?.professionLabel,
    '',
    'a numeric code is not a code',
  )
})

t.test('missing idNat throws PscIdentityError naming the claim', async (t) => {
  for (const userinfo of [
    undefined,
    null,
    'str',
    12,
    [],
    {},
    { SubjectNameID: '' },
    { SubjectNameID: 899700218896 },
    { SubjectNameID: '', preferred_username: '  ' },
    { SubjectNameID: null, preferred_username: [] },
  ]) {
    t.throws(() => identityFromPsc(userinfo, { sub: 's' }), PscIdentityError)
  }
  try {
    identityFromPsc({}, { sub: 's' })
  } catch (err) {
    t.ok(err instanceof PscIdentityError)
    t.equal((err as PscIdentityError).claim, 'SubjectNameID')
    t.match((err as Error).message, /SubjectNameID.*preferred_username/)
  }
  t.throws(() => identityFromPsc({ SubjectNameID: 'x' }, { sub: '' }), { name: 'PscIdentityError', claim: 'sub' })
  t.throws(() => identityFromPsc({ SubjectNameID: 'x' }, null as unknown as { sub: string }), {
    name: 'PscIdentityError',
    claim: 'sub',
  })
})

t.test('a polluted-looking payload does not read through prototypes', async (t) => {
  const payload = JSON.parse('{"SubjectNameID":"x","__proto__":{"given_name":"Evil"}}') as unknown
  t.equal(identityFromPsc(payload, { sub: 's' }).givenName, '')
})

t.test('RPPS derivation', async (t) => {
  t.equal(rppsFromIdNat('899700218896'), '99700218896')
  t.equal(rppsFromIdNat('810000000000'), '10000000000')
  t.equal(rppsFromIdNat('0012345678'), undefined, '0 + ADELI')
  t.equal(rppsFromIdNat('500000001815646/CPAT00045'), undefined)
  t.equal(rppsFromIdNat('ANS20231122132732'), undefined)
  t.equal(rppsFromIdNat('89970021889'), undefined, '11 characters')
  t.equal(rppsFromIdNat('8997002188960'), undefined, '13 characters')
  t.equal(rppsFromIdNat('89970021889a'), undefined)
  t.equal(rppsFromIdNat('899700218896\n'), undefined)
  t.equal(rppsFromIdNat('８99700218896'), undefined, 'full-width digit')
  t.equal(identityFromPsc({ SubjectNameID: '899700218896' }, { sub: 's' }).rpps, '99700218896')
  t.notOk('rpps' in identityFromPsc({ SubjectNameID: '0012345678' }, { sub: 's' }))
})
