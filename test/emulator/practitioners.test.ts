import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import {
  defaultPractitionersFile,
  loadPractitioners,
  parsePractitioners,
  PractitionersFileError,
  startEmulator,
} from '../../dev/emulator/index.js'

const dir = mkdtempSync(join(tmpdir(), 'psc-practitioners-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const client = {
  clientId: 'c',
  clientSecret: 'secretsecret',
  redirectUris: ['http://127.0.0.1:1/cb'],
  postLogoutRedirectUris: [],
}

t.test('the shipped file has the practitioners other tests rely on', async (t) => {
  const practitioners = await loadPractitioners(defaultPractitionersFile())
  const ids = practitioners.map((p) => p.idNat)
  for (const idNat of [
    '899700218896',
    '899700367915',
    '0012345678',
    '899700412345',
    '500000001815646/CPAT00045',
    '899700555555',
    '899700999993',
  ]) {
    t.ok(ids.includes(idNat), idNat)
  }
  const elodie = practitioners.find((p) => p.idNat === '899700218896')
  t.match(elodie, {
    givenName: 'Élodie',
    familyName: 'Lefèvre-Dubois',
    acr: 'eidas1',
    authMode: 'CARD',
    exercices: [
      {
        professionCode: '10',
        category: 'C',
        specialtyCode: 'SM26',
        specialtyType: 'S',
        structures: [{ name: 'Centre Hospitalier de Saint-Œuf', finess: '750000001' }],
      },
    ],
  })
  t.match(
    practitioners.find((p) => p.idNat === '899700412345'),
    { acr: 'eidas2', exercices: [{ professionCode: '10', specialtyCode: 'SM54' }, { professionCode: '50' }] },
  )
  t.match(
    practitioners.find((p) => p.idNat === '500000001815646/CPAT00045'),
    { acr: 'eidas3', authMode: 'MOBILE', exercices: [{ professionCode: '80' }] },
  )
  t.match(
    practitioners.find((p) => p.idNat === '899700555555'),
    { exercices: [{ professionCode: '10', category: 'E' }] },
  )
  t.match(
    practitioners.find((p) => p.idNat === '0012345678'),
    { exercices: [{ professionCode: '60', category: 'M' }] },
  )
  t.match(
    practitioners.find((p) => p.idNat === '899700999993'),
    { exercices: [{ professionCode: '93' }] },
  )
})

t.test('defaults: acr eidas1, authMode CARD, unquoted codes accepted', async (t) => {
  const [p] = parsePractitioners(
    [
      {
        idNat: '899700000001',
        givenName: 'A',
        familyName: 'B',
        civility: 'M',
        exercices: [{ professionCode: 10, category: 'C', structures: [{ id: 1, name: 'S' }] }],
      },
    ],
    'inline',
  )
  t.equal(p?.acr, 'eidas1')
  t.equal(p?.authMode, 'CARD')
  t.equal(p?.exercices[0]?.professionCode, '10')
  t.equal(p?.exercices[0]?.structures[0]?.id, '1')
})

t.test('errors name the file and the bad entry', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['missing.yaml', '', /missing\.yaml: cannot read practitioners file/],
    ['bad-yaml.yaml', '- idNat: "1\n  givenName: [', /bad-yaml\.yaml: invalid YAML/],
    ['not-list.yaml', 'idNat: "1"\n', /not-list\.yaml: expected a non-empty list of practitioners/],
    ['empty.yaml', '', /empty\.yaml: expected a non-empty list/],
    [
      'number-idnat.yaml',
      '- idNat: 0012345678\n  givenName: A\n  familyName: B\n  civility: M\n  exercices: [{professionCode: "60", category: M}]\n',
      /number-idnat\.yaml: practitioners\[0\]\.idNat must be a non-empty string, got number .*quote it/,
    ],
    [
      'bad-acr.yaml',
      '- idNat: "899700000001"\n  givenName: A\n  familyName: B\n  civility: M\n  acr: eidas9\n  exercices: [{professionCode: "10", category: C}]\n',
      /bad-acr\.yaml: practitioners\[0\] \(idNat "899700000001"\)\.acr must be eidas1, eidas2 or eidas3, got "eidas9"/,
    ],
    [
      'typo.yaml',
      '- idNat: "899700000001"\n  givenName: A\n  familyName: B\n  civility: M\n  exercices:\n    - professionCode: "10"\n      category: C\n      structures: [{id: "1", name: S, finnes: "x"}]\n',
      /typo\.yaml: practitioners\[0\] \(idNat "899700000001"\)\.exercices\[0\]\.structures\[0\]: unknown field "finnes"/,
    ],
    [
      'no-exercice.yaml',
      '- idNat: "899700000001"\n  givenName: A\n  familyName: B\n  civility: M\n  exercices: []\n',
      /exercices must be a non-empty list/,
    ],
    [
      'bad-category.yaml',
      '- idNat: "899700000001"\n  givenName: A\n  familyName: B\n  civility: M\n  exercices: [{professionCode: "10", category: X}]\n',
      /exercices\[0\]\.category must be C, M or E/,
    ],
    [
      'dupe.yaml',
      '- {idNat: "1", givenName: A, familyName: B, civility: M, exercices: [{professionCode: "10", category: C}]}\n' +
        '- {idNat: "1", givenName: C, familyName: D, civility: M, exercices: [{professionCode: "10", category: C}]}\n',
      /dupe\.yaml: practitioners\[1\]: duplicate idNat "1"/,
    ],
    [
      'no-name.yaml',
      '- {idNat: "1", givenName: "", familyName: B, civility: M, exercices: [{professionCode: "10", category: C}]}\n',
      /practitioners\[0\] \(idNat "1"\)\.givenName must be a non-empty string, got ""/,
    ],
  ]
  for (const [name, text, pattern] of cases) {
    const path = name === 'missing.yaml' ? join(dir, name) : file(name, text)
    const err = await loadPractitioners(path).then(
      () => undefined,
      (e: unknown) => e,
    )
    t.ok(err instanceof PractitionersFileError, `${name}: PractitionersFileError`)
    t.match((err as Error).message, pattern, name)
    t.equal((err as PractitionersFileError).file, path)
  }
})

t.test('startEmulator rejects a bad practitioners file before listening', async (t) => {
  const path = file('bad-start.yaml', '- nope\n')
  await t.rejects(startEmulator({ port: 0, practitionersFile: path, clients: [client] }), {
    name: 'PractitionersFileError',
    message: /bad-start\.yaml: practitioners\[0\] must be a mapping, got "nope"/,
  })
})

t.test('startEmulator checks its clients', async (t) => {
  await t.rejects(startEmulator({ port: 0, clients: [] }), {
    name: 'TypeError',
    message: /clients must list at least one client/,
  })
  await t.rejects(startEmulator({ port: 0, clients: [{ ...client, clientSecret: 'x' }] }), {
    name: 'TypeError',
    message: /clientSecret/,
  })
})
