import { readFileSync } from 'node:fs'
import t from 'tap'
import { acrSatisfies, isEidasLevel } from '../../src/psc/acr.js'
import { discoveryUrlFor, PSC_ENVIRONMENTS } from '../../src/psc/environments.js'
import { professionLabel, PROFESSIONS } from '../../src/psc/professions.js'

t.test('profession table matches the TRE_G15 reference', async (t) => {
  const reference = JSON.parse(readFileSync(new URL('../fixtures/professions.json', import.meta.url), 'utf8')) as {
    codes: Record<string, string>
  }
  t.same({ ...PROFESSIONS }, reference.codes)
  t.equal(professionLabel('10'), 'Médecin')
  t.equal(professionLabel('50'), 'Sage-Femme')
  t.equal(professionLabel('93'), '', 'psychologue is in TRE_R95')
  t.equal(professionLabel('71'), '', 'ostéopathe is in TRE_R95')
  for (const odd of ['', ' 10', '010', '__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    t.equal(professionLabel(odd), '', JSON.stringify(odd))
  }
  t.equal(professionLabel(10 as unknown as string), '')
})

t.test('environments', async (t) => {
  t.same(PSC_ENVIRONMENTS.bas, {
    issuer: 'https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet',
    discoveryUrl:
      'https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet/.well-known/wallet-openid-configuration',
  })
  t.same(PSC_ENVIRONMENTS.production, {
    issuer: 'https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet',
    discoveryUrl: 'https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet/.well-known/wallet-openid-configuration',
  })
  t.equal(
    discoveryUrlFor('http://127.0.0.1:1/auth/realms/esante-wallet/'),
    'http://127.0.0.1:1/auth/realms/esante-wallet/.well-known/wallet-openid-configuration',
  )
})

t.test('acrSatisfies: a returned level at or above the required one', async (t) => {
  const table: [unknown, 'eidas1' | 'eidas2' | 'eidas3', boolean][] = [
    ['eidas1', 'eidas1', true],
    ['eidas2', 'eidas1', true],
    ['eidas3', 'eidas1', true],
    ['eidas1', 'eidas2', false],
    ['eidas2', 'eidas2', true],
    ['eidas3', 'eidas2', true],
    ['eidas1', 'eidas3', false],
    ['eidas2', 'eidas3', false],
    ['eidas3', 'eidas3', true],
    [undefined, 'eidas1', false],
    [null, 'eidas1', false],
    ['', 'eidas1', false],
    ['EIDAS1', 'eidas1', false],
    ['eidas4', 'eidas1', false],
    ['eidas0', 'eidas1', false],
    [' eidas2', 'eidas1', false],
    [2, 'eidas1', false],
    [['eidas2'], 'eidas1', false],
  ]
  for (const [returned, required, expected] of table) {
    t.equal(acrSatisfies(returned, required), expected, `${JSON.stringify(returned)} vs ${required}`)
  }
  t.equal(acrSatisfies('eidas3', 'bogus' as 'eidas1'), false, 'unknown requirement refuses')
  t.ok(isEidasLevel('eidas2'))
  t.notOk(isEidasLevel('toString'))
})
