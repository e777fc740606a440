// Rules by establishment and by local account (issue 17), through the configuration loader (named
// sets resolved from YAML) to decideAccess and decideRequest, over practitioners with several
// exercices in several structures.
import t from 'tap'
import { loadConfigText } from '../../src/config/load.js'
import { decideAccess, describeDenial } from '../../src/policy/decide.js'
import { decideRequest } from '../../src/policy/decide-request.js'
import { compileRoutes, describeRouteTable } from '../../src/policy/rules.js'
import type { AccountLookup, Exercice, Identity, Structure } from '../../src/psc/identity.js'

const CHU_SITE = '750000001' // a site of the CHU
const CHU_SITE_2 = '750000002' // another site, same legal entity
const CHU_LEGAL = '750000099' // the CHU's legal entity
const OTHER_SITE = '690000001' // another hospital
const CLINIC_SIRET = '12345678900017'

const yaml = `
publicUrl: https://dpi.hopital.fr
psc: { environment: bas, clientId: c, clientSecret: s }
session: { secrets: ["0123456789abcdef0123456789abcdef"] }
upstreams: { app: { url: "http://127.0.0.1:9" } }
structures:
  chu:
    label: CHU de Saint-Œuf
    finess: ["${CHU_SITE}"]
    finessLegal: ["${CHU_LEGAL}"]
  clinique:
    siret: ["${CLINIC_SIRET}"]
    id: ["R10100000123"]
accounts: { source: file, file: accounts.csv, contact: "le secrétariat du DPI (poste 4321)" }
routes:
  - { name: medecins-chu, match: { pathPrefix: /dpi }, upstream: app, access: { professions: ["10"], structures: [chu] } }
  - { name: chu-ou-clinique, match: { pathPrefix: /bloc }, upstream: app, access: { structures: [chu, clinique] } }
  - { name: pharmacie-chu-agents, match: { pathPrefix: /pui }, upstream: app, access: { professions: ["21"], categories: [M], structures: [chu] } }
  - { name: inline, match: { pathPrefix: /inline }, upstream: app, access: { structures: [{ finess: ["${OTHER_SITE}"] }] } }
  - { name: compte, match: { pathPrefix: /compte }, upstream: app, access: { account: required } }
  - { name: groupe, match: { pathPrefix: /admin }, upstream: app, access: { professions: ["10"], structures: [chu], groups: [DPI-Admins] } }
  - { name: app, upstream: app, access: authenticated }
`
const { config } = loadConfigText(yaml, '/etc/psc/gateway.yaml', {})
const table = compileRoutes(config.routes)
const route = (name: string) => table.routes.find((r) => r.name === name)!

const site = (finess: string, name: string, extra: Partial<Structure> = {}): Structure => ({
  id: `F${finess}`,
  name,
  finess,
  ...extra,
})
const ex = (professionCode: string, category: string, ...structures: Structure[]): Exercice => ({
  professionCode,
  professionLabel: 'x',
  category,
  structures,
})
const person = (idNat: string, exercices: Exercice[], account?: AccountLookup): Identity => ({
  sub: `f:x:${idNat}`,
  idNat,
  familyName: 'Dupont',
  givenName: 'Jean',
  acr: 'eidas1',
  exercices,
  ...(account && { account }),
})

const medecinIci = person('810000000001', [ex('10', 'C', site(CHU_SITE, 'CHU site Nord'))])
// a doctor at another hospital who is also a nurse (60) here: not "a doctor here"
const medecinAilleursInfirmierIci = person('810000000002', [
  ex('10', 'C', site(OTHER_SITE, 'CH Lyon')),
  ex('60', 'M', site(CHU_SITE, 'CHU site Nord')),
])
// a doctor at a second site of the same legal entity: matched by the FINESS juridique
const medecinAutreSiteMemeEntite = person('810000000003', [
  ex('10', 'M', site(CHU_SITE_2, 'CHU site Sud', { finessLegal: CHU_LEGAL })),
])
const medecinAilleurs = person('810000000004', [ex('10', 'C', site(OTHER_SITE, 'CH Lyon'))])
// a doctor with two structures in one exercice, one of them here
const medecinDeuxLieux = person('810000000005', [
  ex('10', 'C', site(OTHER_SITE, 'CH Lyon'), site(CHU_SITE, 'CHU site Nord')),
])
const pharmacienClinique = person('810000000006', [
  ex('21', 'C', { id: 'R10100000123', name: 'Clinique', siret: CLINIC_SIRET }),
])
// civil pharmacist at the CHU, agent public pharmacist elsewhere: no single exercice is "agent public here"
const pharmacienDeuxStatuts = person('810000000007', [
  ex('21', 'C', site(CHU_SITE, 'CHU site Nord')),
  ex('21', 'M', site(OTHER_SITE, 'CH Lyon')),
])
const sansStructure = person('810000000008', [ex('10', 'C')])

const cases: Array<[string, string, Identity, string]> = [
  ['medecins-chu', 'a doctor at this hospital', medecinIci, 'allow'],
  ['medecins-chu', 'a doctor elsewhere who is a nurse here', medecinAilleursInfirmierIci, 'PSC_ERR_DENIED_EXERCICE'],
  ['medecins-chu', 'a doctor at another site of the same legal entity', medecinAutreSiteMemeEntite, 'allow'],
  ['medecins-chu', 'a doctor elsewhere only', medecinAilleurs, 'PSC_ERR_DENIED_STRUCTURE'],
  ['medecins-chu', 'a doctor whose one exercice has a structure here', medecinDeuxLieux, 'allow'],
  [
    'medecins-chu',
    'a pharmacist of a clinic (profession and place both fail: the first is named)',
    pharmacienClinique,
    'PSC_ERR_DENIED_PROFESSION',
  ],
  ['medecins-chu', 'a doctor with no structure', sansStructure, 'PSC_ERR_DENIED_STRUCTURE'],
  ['chu-ou-clinique', 'a clinic pharmacist (SIRET/technical id)', pharmacienClinique, 'allow'],
  ['chu-ou-clinique', 'a nurse here (second exercice)', medecinAilleursInfirmierIci, 'allow'],
  ['chu-ou-clinique', 'a doctor elsewhere only', medecinAilleurs, 'PSC_ERR_DENIED_STRUCTURE'],
  [
    'pharmacie-chu-agents',
    'a civil pharmacist here, agent public elsewhere',
    pharmacienDeuxStatuts,
    'PSC_ERR_DENIED_EXERCICE',
  ],
  ['inline', 'a doctor elsewhere, on an inline set of that FINESS', medecinAilleurs, 'allow'],
  ['inline', 'a doctor here, on an inline set of another FINESS', medecinIci, 'PSC_ERR_DENIED_STRUCTURE'],
]

t.test('establishment rules hold for the same exercice as profession and category', async (t) => {
  for (const [name, who, identity, expected] of cases) {
    const v = decideAccess(route(name), identity)
    t.equal(v.kind === 'allow' ? 'allow' : v.code, expected, `${name}: ${who}`)
  }
})

t.test(
  'a structure denial names the establishment and the places held, in English for the log and French on the page',
  async (t) => {
    const v = decideAccess(route('medecins-chu'), medecinAilleurs)
    if (v.kind !== 'deny') throw new Error('expected a denial')
    t.same(v.details, { condition: 'structure', allowed: ['CHU de Saint-Œuf'], held: ['CH Lyon'] })
    t.equal(
      describeDenial(v.details),
      'no exercice meeting the other conditions in [CHU de Saint-Œuf] (structures: CH Lyon)',
    )
    const { problemFor } = await import('../../src/pages/problems.js')
    const page = problemFor(v.code, { lang: 'fr', denial: v.details })
    t.equal(page.status, 403)
    t.match(
      page.paragraphs[0],
      /Cette page est réservée aux professionnels exerçant dans l'établissement : CHU de Saint-Œuf\./,
    )
    t.match(page.paragraphs[1], /CH Lyon/)
    const unnamed = decideAccess(route('chu-ou-clinique'), medecinAilleurs)
    if (unnamed.kind !== 'deny') throw new Error('expected a denial')
    t.same(unnamed.details.allowed, ['CHU de Saint-Œuf', 'clinique'], 'a set without label is named by its key')
  },
)

t.test('account and groups: none, unavailable, found, groups case-insensitive', async (t) => {
  const found = (groups: string[]): AccountLookup => ({ status: 'found', login: 'jdupont', groups, checkedAt: 0 })
  const withAccount = (a: AccountLookup | undefined) => ({ ...medecinIci, ...(a && { account: a }) })
  t.same(
    decideAccess(route('app'), withAccount(undefined)),
    { kind: 'allow' },
    'a route that does not ask lets a practitioner without account through',
  )
  t.equal(
    (decideAccess(route('compte'), withAccount({ status: 'none', checkedAt: 0 })) as { code: string }).code,
    'PSC_ERR_DENIED_NO_ACCOUNT',
  )
  t.equal((decideAccess(route('compte'), withAccount(undefined)) as { code: string }).code, 'PSC_ERR_DENIED_NO_ACCOUNT')
  t.same(decideAccess(route('compte'), withAccount({ status: 'unavailable', reason: 'down', checkedAt: 0 })), {
    kind: 'reject',
    code: 'PSC_ERR_DIRECTORY_UNAVAILABLE',
  })
  t.same(decideAccess(route('compte'), withAccount(found([]))), { kind: 'allow' })
  t.same(
    decideAccess(route('groupe'), withAccount(found(['Users', 'dpi-admins']))),
    { kind: 'allow' },
    'AD names compare case-insensitively',
  )
  const g = decideAccess(route('groupe'), withAccount(found(['Users'])))
  t.same(g, {
    kind: 'deny',
    code: 'PSC_ERR_DENIED_GROUP',
    details: { condition: 'group', allowed: ['DPI-Admins'], held: ['Users'] },
  })
  // the establishment is checked before the account: a doctor elsewhere is told so, not "no account"
  t.equal(
    (decideAccess(route('groupe'), { ...medecinAilleurs, account: found(['DPI-Admins']) }) as { code: string }).code,
    'PSC_ERR_DENIED_STRUCTURE',
  )
  // through decideRequest: a directory down is a 503 rejection, not a 403
  const outcome = decideRequest({
    route: route('compte'),
    websocketEnabled: false,
    forwardsAccessToken: false,
    psc: 'ready',
    session: { state: 'alive', identity: withAccount({ status: 'unavailable', reason: 'down', checkedAt: 0 }) },
    request: { method: 'GET', kind: 'navigation', onPublicHost: true },
  })
  t.same(outcome, { kind: 'reject', code: 'PSC_ERR_DIRECTORY_UNAVAILABLE' })
  const { problemFor } = await import('../../src/pages/problems.js')
  const page = problemFor('PSC_ERR_DENIED_NO_ACCOUNT', { lang: 'fr', contact: 'le secrétariat du DPI (poste 4321)' })
  t.equal(
    page.paragraphs[0],
    "Votre compte n'est pas encore ouvert dans cette application : contactez le secrétariat du DPI (poste 4321) en indiquant votre numéro RPPS ou votre identifiant national ci-dessous.",
  )
  t.equal(problemFor('PSC_ERR_DIRECTORY_UNAVAILABLE', { lang: 'fr' }).status, 503)
})

t.test(
  'a duplicate or disabled account: refused where an account is needed, with its own code and a page naming the contact',
  async (t) => {
    const withAccount = (a: AccountLookup) => ({ ...medecinIci, account: a })
    for (const status of ['duplicate', 'disabled'] as const) {
      t.same(
        decideAccess(route('app'), withAccount({ status, checkedAt: 0 })),
        { kind: 'allow' },
        `${status}: a route without account conditions lets through (no account headers)`,
      )
      const code = status === 'duplicate' ? 'PSC_ERR_DENIED_ACCOUNT_DUPLICATE' : 'PSC_ERR_DENIED_ACCOUNT_DISABLED'
      t.match(decideAccess(route('compte'), withAccount({ status, checkedAt: 0 })), { kind: 'deny', code })
      t.match(
        decideAccess(route('groupe'), withAccount({ status, checkedAt: 0 })),
        { kind: 'deny', code },
        'groups are not read from it',
      )
    }
    const { problemFor } = await import('../../src/pages/problems.js')
    const contact = 'le secrétariat du DPI (poste 4321)'
    const duplicate = problemFor('PSC_ERR_DENIED_ACCOUNT_DUPLICATE', { lang: 'fr', contact })
    t.match(duplicate, { status: 403, title: 'Compte en double' })
    t.match(duplicate.paragraphs[0], /Contactez le secrétariat du DPI \(poste 4321\)/)
    t.match(problemFor('PSC_ERR_DENIED_ACCOUNT_DISABLED', { lang: 'en', contact }), {
      status: 403,
      title: 'Account disabled',
    })
    const group = problemFor('PSC_ERR_DENIED_GROUP', {
      lang: 'fr',
      contact,
      denial: { condition: 'group', allowed: ['DPI-Admins'], held: [] },
    })
    t.match(
      group.paragraphs.at(-1),
      /contactez le secrétariat du DPI \(poste 4321\)/,
      'the group refusal names accounts.contact, not the default',
    )
  },
)

t.test('check prints the conditions of each route', async (t) => {
  const text = describeRouteTable(table)
  t.match(text, /medecins-chu .*professions 10 & structures CHU de Saint-Œuf/)
  t.match(text, /groupe .*groups DPI-Admins/)
  t.match(text, /compte .*account required/)
  t.equal(config.accounts?.file, '/etc/psc/accounts.csv', 'the mapping file is found beside the configuration file')
})

const configError = (text: string): string => {
  try {
    loadConfigText(text, 'gw.yaml', {})
  } catch (err) {
    return (err as Error).message
  }
  throw new Error('expected a configuration error')
}

t.test('configuration errors name the file, the line and the key', async (t) => {
  const base = yaml.replace(/routes:[\s\S]*$/, '')
  t.match(
    configError(`${base}routes:\n  - { name: r, upstream: app, access: { structures: [chuu] } }\n`),
    /gw\.yaml:\d+:\d+: routes\[0\]\.access\.structures\[0\]: unknown structure set "chuu" \(did you mean "chu"\?\)/,
  )
  const lines = `${base}routes:\n  - { name: r, upstream: app, access: { structures: [nowhere] } }\n`.split('\n')
  const line = lines.findIndex((l) => l.includes('nowhere')) + 1
  t.match(
    configError(lines.join('\n')),
    new RegExp(
      `gw\\.yaml:${line}:\\d+: routes\\[0\\]\\.access\\.structures\\[0\\]: unknown structure set "nowhere" \\(declared under "structures": chu, clinique\\)`,
    ),
  )
  t.match(
    configError(
      `${base.replace(/accounts:.*\n/, '')}routes:\n  - { name: r, upstream: app, access: { groups: [A] } }\n`,
    ),
    /routes\[0\]\.access\.groups: "groups" needs a source of local accounts/,
  )
  t.match(
    configError(
      `${base.replace('finess: ["750000001"]', 'finess: ["75000001"]')}routes:\n  - { name: r, upstream: app, access: authenticated }\n`,
    ),
    /structures\.chu\.finess\[0\]: expected a FINESS number/,
  )
  const ldap = (extra: string) =>
    `${base.replace(/accounts:.*\n/, `accounts:\n  source: ldap\n  ldap:\n    url: ldap://ad.hopital.local\n    bindDn: cn=svc\n    bindPassword: "hunter2-secret"\n    baseDn: dc=h\n${extra}`)}routes:\n  - { name: r, upstream: app, access: authenticated }\n`
  const insecure = configError(ldap(''))
  t.match(
    insecure,
    /accounts\.ldap\.url: an ldap:\/\/ directory without startTls would receive the bind password in clear/,
  )
  t.notMatch(insecure, /hunter2/, 'the bind password is never echoed')
  t.match(
    configError(ldap('    startTls: true\n    filter: "(employeeID=x)"\n')),
    /accounts\.ldap\.filter: the filter must contain \{rpps\} or \{idNat\}/,
  )
  t.match(
    configError(ldap('    startTls: true\n    filter: "(&(employeeID={rpps})"\n')),
    /accounts\.ldap\.filter: not a valid LDAP filter/,
  )
  t.match(
    configError(
      `${base.replace(/accounts:.*\n/, 'accounts: { source: ldap }\n')}routes:\n  - { name: r, upstream: app, access: authenticated }\n`,
    ),
    /accounts\.source: source "ldap" needs accounts\.ldap/,
  )
  t.match(
    configError(
      `${base.replace(/accounts:.*\n/, 'headers: { identity: { X-Remote-User: accountLogin } }\n')}routes:\n  - { name: r, upstream: app, access: authenticated }\n`,
    ),
    /headers\.identity\["X-Remote-User"\]: "accountLogin" needs a source of local accounts/,
  )
})
