// The Datapass half of `psc-gateway raccordement`, from several configurations: which data (the
// national identifier; sectoral data and why), their recipients (the upstreams a login leads to),
// the retention the gateway keeps or the log platform's, the volume, the date, the contacts, and
// what the configuration cannot know. Before: the sheet had only the per-environment form.
import t from 'tap'
import { loadConfigText } from '../../src/config/load.js'
import { buildDatapassSheet, formatDatapassSheet } from '../../src/ops/raccordement-datapass.js'

const DECLARATION = `
declaration:
  contacts:
    controller: { name: Marie Durand, role: Directrice, email: direction@ch-arles.fr }
    dpo: { name: Paul Martin, email: dpo@ch-arles.fr, phone: "04 90 00 00 00" }
    technical: { name: Léa Petit, email: dsi@ch-arles.fr }
  expectedVolume: { practitioners: 300, loginsPerDay: 450 }
  productionDate: "2027-03-01"
`

function config(parts: { routes?: string; headers?: string; audit?: string; extra?: string; upstreams?: string }) {
  return loadConfigText(
    `
publicUrl: https://dpi.ch-arles.fr
psc:
  environment: production
  clientId: dpi-ch-arles
  clientSecret: \${S}
session: { secrets: ["${'s'.repeat(40)}"] }
upstreams: ${parts.upstreams ?? '{ dpi: { url: "http://10.0.0.5:8080" }, aide: { url: "http://10.0.0.6" } }'}
routes:
${
  parts.routes ??
  `  - { name: dpi, match: { pathPrefix: /dpi }, upstream: dpi, access: authenticated }
  - { name: aide, match: { pathPrefix: /aide }, upstream: aide, access: public }`
}
${parts.headers ?? ''}
${parts.audit ?? ''}
${parts.extra ?? ''}
`,
    'datapass.yaml',
    { S: 'secret-secret', K: 'k'.repeat(40) },
  ).config
}

t.test('identifier only forwarded, no rule on the profile: sectoral data for the audit trail only', async (t) => {
  const c = config({
    headers:
      'headers: { identity: { X-PSC-Family-Name: false, X-PSC-Given-Name: false, X-PSC-Profession-Code: false, X-PSC-Profession: false, X-PSC-Category: false, X-PSC-Specialty: false } }',
  })
  const s = buildDatapassSheet(c)
  t.same(s.data.sectoralUses, ["journal d'audit (code profession de chaque connexion)"])
  t.same(
    s.recipients,
    [
      {
        name: 'dpi',
        url: 'http://10.0.0.5:8080',
        fields: ['identifiant national', 'RPPS', "niveau d'authentification", "moyen d'authentification"],
        assertion: false,
      },
    ],
    'only the upstream a login leads to; the public one gets nothing',
  )
  const md = formatDatapassSheet(s)
  t.match(md, '| Données demandées | Identifiant national : oui. Données sectorielles : oui |')
  t.notMatch(md, 'aide (http://10.0.0.6)')
})

t.test('professions and categories in rules, the default headers forwarded, an assertion', async (t) => {
  const c = config({
    upstreams: '{ dpi: { url: "http://10.0.0.5:8080", assertion: { audience: dpi } } }',
    routes: `  - { name: pharma, match: { pathPrefix: /pharma }, upstream: dpi, access: { professions: ["21"], categories: [C] } }`,
  })
  const s = buildDatapassSheet(c)
  t.same(s.data.sectoralUses, [
    "règles d'accès (professions, catégories professionnelles)",
    "transmises aux applications (nom d'exercice, prénom d'exercice, code profession, profession, catégorie professionnelle, savoir-faire)",
    "journal d'audit (code profession de chaque connexion)",
  ])
  t.equal(s.recipients[0]!.assertion, true)
  t.match(
    formatDatapassSheet(s),
    /dpi \(http:\/\/10\.0\.0\.5:8080\) : identifiant national, RPPS, nom d'exercice.*par en-têtes et assertion signée/,
  )
})

t.test('a full declaration and audit files the gateway removes: nothing left to complete', async (t) => {
  const c = config({
    audit: 'audit: { file: /tmp/audit.log, hmacKey: "${K}", retention: 12 months, rotatedEvery: 1d }',
    extra: DECLARATION,
  })
  const s = buildDatapassSheet(c)
  t.same(s.toComplete, [])
  t.equal(s.retention.months, 12)
  const md = formatDatapassSheet(s)
  t.match(
    md,
    "| Durée de conservation (mois) | 12 — fichiers d'audit supprimés par la passerelle après 12 mois (rotation tous les 1 j) ; sessions : au plus 8 h |",
  )
  t.match(md, '| Volumétrie | 300 praticiens ; 450 connexions par jour (environ 164250 par an) |')
  t.match(md, '| Date de mise en production | 2027-03-01 |')
  t.match(md, '| Responsable de traitement | Marie Durand, Directrice, direction@ch-arles.fr |')
  t.match(md, '| Délégué à la protection des données (DPO) | Paul Martin, dpo@ch-arles.fr, 04 90 00 00 00 |')
  t.notMatch(md, 'À compléter')
  t.match(md, '## Ce que la configuration ne peut pas savoir')
  t.match(md, '(SIRET)')
})

t.test('retention in days is stated in whole months, rounded up', async (t) => {
  const c = config({ audit: 'audit: { file: /tmp/a.log, hmacKey: "${K}", retention: 400 days, rotatedEvery: 7d }' })
  t.equal(buildDatapassSheet(c).retention.months, 14)
})

t.test('audit to stdout only: the retention is the log platform’s, stated or to complete', async (t) => {
  const bare = buildDatapassSheet(config({}))
  t.equal(bare.retention.months, null)
  t.match(bare.retention.how, 'la durée est celle de la plateforme de journaux, que la passerelle ne connaît pas')
  t.same(bare.toComplete, [
    'declaration.retentionMonths (durée de conservation de la plateforme de journaux)',
    'declaration.expectedVolume.practitioners (ou psc.expectedUsers)',
    'declaration.expectedVolume.loginsPerDay',
    'declaration.productionDate',
    'declaration.contacts.controller',
    'declaration.contacts.dpo',
    'declaration.contacts.technical',
  ])
  const md = formatDatapassSheet(bare)
  t.match(md, '## À compléter dans la configuration (7)')
  t.match(md, '| Responsable technique | (à définir : declaration.contacts.technical) |')
  const stated = buildDatapassSheet(config({ extra: 'declaration: { retentionMonths: 6 }' }))
  t.equal(stated.retention.months, 6)
  t.match(stated.retention.how, 'tenue par la plateforme de journaux, pas par la passerelle')
})

t.test('audit file without retention: the gateway keeps everything, said so', async (t) => {
  const s = buildDatapassSheet(config({ audit: 'audit: { file: /tmp/a.log, hmacKey: "${K}" }' }))
  t.equal(s.retention.months, null)
  t.match(s.retention.how, 'la passerelle ne supprime pas ses fichiers')
  t.ok(s.toComplete.includes('audit.retention (et audit.rotatedEvery)'))
})
