// The mapping file: CSV (comma or semicolon) and YAML, every bad line named, re-read when it
// changes, the previous mapping kept when an edit breaks it; and `check`'s view of it.
import t from 'tap'
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseCsvMapping, parseYamlMapping } from '../../src/accounts/mapping-file.js'
import { MappingFileError, MappingFileSource } from '../../src/accounts/mapping-source.js'
import { checkAccountsSettings } from '../../src/accounts/check.js'
import type { Identity } from '../../src/psc/identity.js'

const who = (idNat: string): Identity => ({
  sub: `f:x:${idNat}`,
  idNat,
  ...(/^8\d{11}$/.test(idNat) && { rpps: idNat.slice(1) }),
  familyName: 'X',
  givenName: 'Y',
  acr: 'eidas1',
  exercices: [],
})

t.test('CSV: by RPPS or idNat, quoted fields, groups separated by |, French spreadsheet semicolons', async (t) => {
  const csv =
    '\uFEFF# comptes du DPI\nrpps,idNat,login,displayName,groups\n99700218896,,edubois,"Lefèvre-Dubois, Élodie",DPI-Medecins|DPI-Admins\n,0012345678,acoeur,Anne Cœur,\n'
  const { byKey, problems } = parseCsvMapping(csv)
  t.same(problems, [])
  t.same(byKey.get('rpps:99700218896'), {
    login: 'edubois',
    displayName: 'Lefèvre-Dubois, Élodie',
    groups: ['DPI-Medecins', 'DPI-Admins'],
  })
  t.same(byKey.get('idNat:0012345678'), { login: 'acoeur', displayName: 'Anne Cœur', groups: [] })
  const semi = parseCsvMapping('rpps;login;groups\n99700218896;edubois;A|B\n')
  t.same(semi.byKey.get('rpps:99700218896'), { login: 'edubois', groups: ['A', 'B'] })
})

t.test('CSV: each bad line is named with what is wrong', async (t) => {
  const { problems } = parseCsvMapping(
    [
      'rpps,login,displayName,groups', // 1
      '99700218896,edubois,Élodie,', // 2
      '9970021889,jdoe,,', // 3 RPPS of 10 digits
      '99700367915,,Sans login,', // 4
      '99700218896,other,,', // 5 duplicate
      '99700412345,j dupont,,', // 6 space in login
      '99700555555,x,"unclosed,', // 7
      '99700999993,y', // 8 too few fields
    ].join('\n'),
  )
  t.same(problems, [
    { line: 3, message: 'rpps "9970021889" is not an RPPS number (11 digits)' },
    { line: 4, message: 'login is missing' },
    { line: 5, message: 'rpps 99700218896 is already mapped at line 2' },
    { line: 6, message: 'login "j dupont" contains a space or a separator character' },
    { line: 7, message: 'a quoted field is not closed' },
    { line: 8, message: 'expected 4 fields (rpps,login,displayName,groups), got 2' },
  ])
  t.same(parseCsvMapping('rpps,login,role\n').problems, [
    { line: 1, message: 'unknown column "role" (columns: idNat and/or rpps, login, displayName, groups)' },
  ])
  t.same(parseCsvMapping('\n\n').problems, [
    { line: 1, message: 'the file is empty: expected a header line such as rpps,login,displayName,groups' },
  ])
})

t.test('YAML: entries with their line; unquoted numbers refused', async (t) => {
  const ok = parseYamlMapping(
    '- rpps: "99700218896"\n  login: edubois\n  groups: [DPI-Medecins]\n- idNat: "0012345678"\n  login: acoeur\n',
  )
  t.same(ok.problems, [])
  t.same(ok.byKey.get('idNat:0012345678'), { login: 'acoeur', groups: [] })
  const bad = parseYamlMapping(
    '- rpps: "99700218896"\n  login: edubois\n- idNat: 0012345678\n  login: acoeur\n- rpps: "99700367915"\n  login: x\n  role: admin\n',
  )
  t.same(bad.problems, [
    { line: 3, message: 'idNat: expected a quoted string (YAML reads 0012345678 as a number and loses its zeros)' },
    { line: 7, message: 'unknown key "role" (keys: idNat, rpps, login, displayName, groups)' },
  ])
})

t.test(
  'the source re-reads the file when it changes, and keeps the previous mapping when an edit breaks it',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'psc-accounts-'))
    const file = join(dir, 'accounts.csv')
    writeFileSync(file, 'rpps,login\n99700218896,edubois\n')
    const problems: string[] = []
    const source = new MappingFileSource(file, Date.now, (m) => problems.push(m))
    t.match(await source.lookup(who('899700218896')), { status: 'found', login: 'edubois' })
    t.match(await source.lookup(who('899700367915')), { status: 'none' })
    // replaced as editors and Kubernetes do: a new file renamed over the old one
    writeFileSync(`${file}.new`, 'rpps,login,groups\n99700218896,edubois2,A\n99700367915,jfaubigne,\n')
    renameSync(`${file}.new`, file)
    t.match(
      await source.lookup(who('899700367915')),
      { status: 'found', login: 'jfaubigne' },
      'a new entry is seen without restart',
    )
    t.match(await source.lookup(who('899700218896')), { status: 'found', login: 'edubois2', groups: ['A'] })
    writeFileSync(`${file}.new`, 'rpps,login\n99700218896,\n')
    renameSync(`${file}.new`, file)
    t.match(
      await source.lookup(who('899700367915')),
      { status: 'found', login: 'jfaubigne' },
      'a broken edit keeps the previous mapping',
    )
    t.match(problems[0], new RegExp(`${file}:2: login is missing`))
    t.match(
      source.health(),
      { ok: true, reason: /2 entries in force; the file on disk is not used: .*login is missing/ },
      'still ready (the previous mapping serves), and says why',
    )
    t.throws(
      () => new MappingFileSource(file, Date.now),
      MappingFileError,
      'a broken file at start-up refuses to start',
    )
    t.same(checkAccountsSettings({ source: 'file', file, contact: 'x', refreshEveryMs: 1, retryEveryMs: 1 }), [
      `${file}:2: login is missing`,
    ])
    t.same(
      checkAccountsSettings({
        source: 'file',
        file: join(dir, 'none.csv'),
        contact: 'x',
        refreshEveryMs: 1,
        retryEveryMs: 1,
      }),
      [`${join(dir, 'none.csv')}: cannot read the mapping file (ENOENT)`],
    )
  },
)
