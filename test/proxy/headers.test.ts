import fc from 'fast-check'
import t from 'tap'
import { encodeHeaderValue, identityHeaderValues } from '../../src/proxy/identity-headers.js'
import {
  clientHeadersForUpstream,
  compileStripRules,
  isGatewayOwnedHeader,
  withoutCookies,
} from '../../src/proxy/strip-headers.js'
import type { Identity } from '../../src/psc/identity.js'
import { identityFromPsc } from '../../src/psc/map-user-info.js'

const identity: Identity = {
  sub: 'f:1:899700218896',
  idNat: '899700218896',
  rpps: '99700218896',
  familyName: "Cœurdevey-D'Aubigné",
  givenName: 'Zoé',
  acr: 'eidas1',
  authMode: 'CARD',
  exercices: [
    {
      professionCode: '10',
      professionLabel: 'Médecin',
      category: 'C',
      specialtyCode: 'SM26',
      structures: [{ name: 'CH Saint-Œuf', finess: '750000001' }],
    },
    { professionCode: '50', professionLabel: 'Sage-Femme', structures: [] },
  ],
}

t.test('percent encoding is lossless UTF-8 and leaves plain ASCII alone', async (t) => {
  t.equal(encodeHeaderValue('Dupont', 'percent'), 'Dupont')
  t.equal(encodeHeaderValue("D'Aubigné", 'percent'), "D'Aubign%C3%A9")
  t.equal(encodeHeaderValue('Cœur', 'percent'), 'C%C5%93ur')
  t.equal(encodeHeaderValue('100%', 'percent'), '100%25', '"%" itself is escaped so decoding is unambiguous')
  t.equal(encodeHeaderValue('a\r\nX-Evil: 1', 'percent'), 'a%0D%0AX-Evil: 1', 'no header injection')
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), (s) => {
      const encoded = encodeHeaderValue(s, 'percent')
      return /^[\x20-\x7e]*$/.test(encoded) && decodeURIComponent(encoded) === s
    }),
  )
})

t.test('latin1 keeps Latin-1 characters, replaces others, drops controls', async (t) => {
  t.equal(encodeHeaderValue('Élodie', 'latin1'), 'Élodie')
  t.equal(encodeHeaderValue('Cœur', 'latin1'), 'C?ur')
  t.equal(encodeHeaderValue('a\r\nb', 'latin1'), 'a  b')
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), (s) => /^[\x20-\x7e\xa0-\xff]*$/.test(encodeHeaderValue(s, 'latin1'))),
  )
})

t.test('identity → headers uses the primary exercice and skips empty values', async (t) => {
  const headers = identityHeaderValues(
    identity,
    [
      { header: 'X-PSC-IdNat', field: 'idNat' },
      { header: 'X-PSC-Profession', field: 'profession' },
      { header: 'X-PSC-Professions', field: 'professionCodes' },
      { header: 'X-PSC-Structure', field: 'structureName' },
      { header: 'X-PSC-Civility', field: 'civility' },
    ],
    'percent',
  )
  t.same(headers, {
    'x-psc-idnat': '899700218896',
    'x-psc-profession': 'M%C3%A9decin',
    'x-psc-professions': '10,50',
    'x-psc-structure': 'CH Saint-%C5%92uf',
  })
})

t.test(
  'a profession outside TRE_G15 (psychologue 93): the code travels, no label header rather than an English "unknown"',
  async (t) => {
    const psy = identityFromPsc(
      {
        SubjectNameID: '899700999993',
        SubjectRefPro: { exercices: [{ codeProfession: '93', codeCategorieProfessionnelle: 'C' }] },
      },
      { sub: 'f:1:899700999993' },
    )
    t.equal(psy.exercices[0]?.professionLabel, '')
    const headers = identityHeaderValues(
      psy,
      [
        { header: 'X-PSC-Profession-Code', field: 'professionCode' },
        { header: 'X-PSC-Profession', field: 'profession' },
      ],
      'percent',
    )
    t.same(headers, { 'x-psc-profession-code': '93' })
  },
)

t.test('identity namespace stripping: any case, "_" for "-", forwarding headers, own headers', async (t) => {
  const rules = compileStripRules(['X-PSC-'], ['Remote-User', 'X-Request-Id'])
  for (const name of [
    'x-psc-idnat',
    'X-PSC-IDNAT',
    'x_psc_idnat',
    'X_Psc-Rpps',
    'x-psc-',
    'remote_user',
    'remote-user',
    'x-forwarded-for',
    'x_forwarded_host',
    'forwarded',
    'x-real-ip',
    'x-original-url',
    'x-request-id',
  ]) {
    t.ok(isGatewayOwnedHeader(name, rules), name)
  }
  for (const name of ['x-pscidnat', 'accept', 'cookie', 'x-ps', 'authorization', 'remote-users'])
    t.notOk(isGatewayOwnedHeader(name, rules), name)
  const headers = {
    'x-psc-idnat': 'forged',
    x_psc_rpps: 'forged',
    accept: 'text/html',
    cookie: 'a=1; psc_session=s; b=2',
    'x-forwarded-for': '6.6.6.6',
  }
  const own = new Set(['psc_session'])
  t.same(clientHeadersForUpstream(headers, rules, own), { accept: 'text/html', cookie: 'a=1; b=2' })
  t.same(
    headers,
    {
      'x-psc-idnat': 'forged',
      x_psc_rpps: 'forged',
      accept: 'text/html',
      cookie: 'a=1; psc_session=s; b=2',
      'x-forwarded-for': '6.6.6.6',
    },
    'the client headers are left as they were',
  )
  t.same(
    clientHeadersForUpstream({ cookie: 'psc_session=s', accept: '*/*' }, rules, own),
    { accept: '*/*' },
    'no Cookie header at all when only gateway cookies were sent',
  )
  t.notOk('cookie' in clientHeadersForUpstream({ cookie: 'psc_session=s' }, rules, own))
})

t.test('the gateway cookies are removed from the Cookie header', async (t) => {
  const own = new Set(['psc_session', 'psc_login'])
  t.equal(withoutCookies('a=1; psc_session=xyz; b=2', own), 'a=1; b=2')
  t.equal(withoutCookies('psc_session=xyz;psc_login=1', own), undefined)
  t.equal(withoutCookies('JSESSIONID=abc', own), 'JSESSIONID=abc')
  t.equal(withoutCookies(' psc_session =x; c=3', own), 'c=3', 'spaces around the name do not smuggle it through')
})

t.test('a Cookie header without the gateway cookies is forwarded exactly as sent', async (t) => {
  const own = new Set(['psc_session', 'psc_login'])
  for (const h of ['a=1;b=2', 'a=1;;b=2 ', 'x_psc_session=1; psc_sessionx=2', 'psc=1'])
    t.equal(withoutCookies(h, own), h)
  t.equal(withoutCookies('=x; a=1', own), 'a=1', 'a part without a name is dropped once anything is rewritten')
})

t.test('property: the gateway cookies never survive, every other part is kept in order', async () => {
  const own = new Set(['psc_session', 'psc_login'])
  const name = fc.oneof(
    fc.constantFrom('psc_session', 'psc_login', 'JSESSIONID', 'a', 'psc_sessio', ''),
    fc.stringMatching(/^[A-Za-z0-9_]{1,8}$/),
  )
  const part = fc
    .tuple(
      fc.constantFrom('', ' ', '  '),
      name,
      fc.constantFrom('', ' '),
      fc.option(fc.stringMatching(/^[A-Za-z0-9=.]{0,6}$/), { nil: undefined }),
      fc.constantFrom('', ' '),
    )
    .map(([a, n, b, v, c]) => `${a}${n}${b}${v === undefined ? '' : `=${v}`}${c}`)
  fc.assert(
    fc.property(fc.array(part, { maxLength: 6 }), (parts) => {
      const header = parts.join(';')
      const result = withoutCookies(header, own)
      const nameOf = (p: string) => {
        const eq = p.indexOf('=')
        return (eq === -1 ? p : p.slice(0, eq)).trim()
      }
      const expected = parts.map((p) => p.trim()).filter((p) => p !== '' && nameOf(p) !== '' && !own.has(nameOf(p)))
      const touched = parts.some((p) => p.trim() !== '' && (nameOf(p) === '' || own.has(nameOf(p))))
      if (!touched) return result === header
      return expected.length === 0 ? result === undefined : result === expected.join('; ')
    }),
    { numRuns: 2000 },
  )
})
