// The local account's groups in one header: a group name with a comma ("DPI Admins, Nord", common in
// Active Directory), a percent sign or accents must come back whole to an application that splits
// the value on "," and percent-decodes each part, in both header encodings and in the assertion.
import t from 'tap'
import { identityFieldValue, identityHeaderValues } from '../../src/proxy/identity-headers.js'
import type { Identity } from '../../src/psc/identity.js'

const GROUPS = ['DPI-Medecins', 'DPI Admins, Nord', 'Taux 100%', 'Équipe Œnologie', 'a%2Cb']
const identity = (groups: string[]): Identity => ({
  sub: 's',
  idNat: '899700218896',
  familyName: 'X',
  givenName: 'Y',
  acr: 'eidas1',
  exercices: [],
  account: { status: 'found', login: 'edubois', groups, checkedAt: 0 },
})
/** what the application does (docs/accounts.md) */
const decode = (value: string): string[] => value.split(',').map((part) => decodeURIComponent(part))
const mapping = [{ header: 'X-Remote-Groups', field: 'accountGroups' as const }]

t.test('percent encoding: split on "," then percent-decode each part gives the names back', async (t) => {
  const value = identityHeaderValues(identity(GROUPS), mapping, 'percent')['x-remote-groups']!
  t.equal(value, 'DPI-Medecins,DPI Admins%2C Nord,Taux 100%25,%C3%89quipe %C5%92nologie,a%252Cb')
  t.same(decode(value), GROUPS)
})

t.test('latin1 encoding: the commas and percent signs of names are escaped the same way', async (t) => {
  const value = identityHeaderValues(identity(GROUPS.filter((g) => !g.includes('Œ'))), mapping, 'latin1')[
    'x-remote-groups'
  ]!
  t.equal(value, 'DPI-Medecins,DPI Admins%2C Nord,Taux 100%25,a%252Cb')
  t.same(
    decode(value),
    GROUPS.filter((g) => !g.includes('Œ')),
  )
  t.equal(
    identityHeaderValues(identity(['Équipe']), mapping, 'latin1')['x-remote-groups'],
    'Équipe',
    'Latin-1 letters travel as they are',
  )
})

t.test('names without commas read as before; the assertion claim uses the same list', async (t) => {
  t.equal(
    identityHeaderValues(identity(['DPI-Medecins', 'DPI-Admins']), mapping, 'percent')['x-remote-groups'],
    'DPI-Medecins,DPI-Admins',
  )
  t.same(decode(identityFieldValue(identity(GROUPS), 'accountGroups')!), GROUPS)
  t.equal(identityHeaderValues(identity([]), mapping, 'percent')['x-remote-groups'], undefined, 'no group: no header')
})
