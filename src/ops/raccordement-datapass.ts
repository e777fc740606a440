// The Datapass half of `psc-gateway raccordement`: what ANS's habilitation request asks that the
// configuration knows (the data used, their recipients, how long they are kept, the volume, the
// production date, the people involved), and, said plainly, what it cannot know. French, the
// language of the form.
import { parseRetention, retentionMonths } from '../audit/retention-period.js'
import type { IdentityField } from '../config/schema.js'
import type { GatewayConfig } from '../config/types.js'

export interface DatapassContact {
  name: string
  email: string
  role?: string | undefined
  phone?: string | undefined
}

export interface DatapassSheet {
  data: {
    nationalId: true
    sectoral: boolean
    /** why sectoral data are needed, one French phrase each */
    sectoralUses: string[]
  }
  recipients: Array<{ name: string; url: string; fields: string[]; assertion: boolean }>
  retention: { months: number | null; how: string }
  volume: { practitioners: number | null; loginsPerDay: number | null; loginsPerYear: number | null }
  productionDate: string | null
  contacts: {
    controller: DatapassContact | null
    dpo: DatapassContact | null
    technical: DatapassContact | null
  }
  /** what the configuration lacks and can hold: the key to set */
  toComplete: string[]
  /** what no configuration can know */
  outside: string[]
}

/** Fields that identify the practitioner (Datapass's "identifiant national"); the rest of PSC's profile is sectoral. */
const IDENTIFIER_FIELDS = new Set<IdentityField>(['idNat', 'rpps', 'sub'])
/** Facts of the login itself, not of the practitioner's profile. */
const LOGIN_FIELDS = new Set<IdentityField>(['acr', 'authMode'])
/** The establishment's own accounts (accounts:), not PSC data. */
const LOCAL_FIELDS = new Set<IdentityField>(['accountLogin', 'accountName', 'accountGroups'])

const FIELD_LABEL: Record<IdentityField, string> = {
  idNat: 'identifiant national',
  rpps: 'RPPS',
  sub: 'sub PSC',
  familyName: "nom d'exercice",
  givenName: "prénom d'exercice",
  civility: 'civilité',
  acr: "niveau d'authentification",
  authMode: "moyen d'authentification",
  professionCode: 'code profession',
  profession: 'profession',
  category: 'catégorie professionnelle',
  specialty: 'savoir-faire',
  professionCodes: 'codes profession',
  structureId: 'identifiant de structure',
  structureName: 'raison sociale de la structure',
  structureFiness: 'FINESS de la structure',
  accountLogin: 'compte local',
  accountName: 'nom du compte local',
  accountGroups: 'groupes du compte local',
}

const RULE_LABEL = {
  professions: 'professions',
  categories: 'catégories professionnelles',
  specialties: 'savoir-faire',
  structures: 'structures',
} as const

/** What ANS asks that lives outside any configuration. */
const OUTSIDE = [
  "l'organisation demandeuse (SIRET)",
  'le nom et la description du projet, et la maquette éventuelle (PDF)',
  'la base juridique (par exemple le décret du 24 mars 2021)',
  "l'acceptation des conditions d'utilisation, et la confirmation que le DPO est informé",
]

export function buildDatapassSheet(config: GatewayConfig): DatapassSheet {
  const d = config.declaration
  const toComplete: string[] = []

  // Sectoral data: read by the rules, sent upstream, and always the profession code in the audit trail.
  const ruleKinds = new Set<keyof typeof RULE_LABEL>()
  for (const r of config.routes) {
    if (typeof r.access !== 'object') continue
    for (const k of Object.keys(RULE_LABEL) as (keyof typeof RULE_LABEL)[])
      if (r.access[k] !== undefined) ruleKinds.add(k)
  }
  // Identity goes only where a route that needs a login leads (public routes get none).
  const loggedIn = new Set(config.routes.filter((r) => r.access !== 'public').map((r) => r.upstream))
  const forwarded = config.headers.identity.map((h) => h.field)
  const sectoralSent = [
    ...new Set(forwarded.filter((f) => !IDENTIFIER_FIELDS.has(f) && !LOGIN_FIELDS.has(f) && !LOCAL_FIELDS.has(f))),
  ]
  const sectoralUses: string[] = []
  if (ruleKinds.size > 0) sectoralUses.push(`règles d'accès (${[...ruleKinds].map((k) => RULE_LABEL[k]).join(', ')})`)
  if (sectoralSent.length > 0 && loggedIn.size > 0)
    sectoralUses.push(`transmises aux applications (${sectoralSent.map((f) => FIELD_LABEL[f]).join(', ')})`)
  sectoralUses.push("journal d'audit (code profession de chaque connexion)")

  const recipients = Object.values(config.upstreams)
    .filter((u) => loggedIn.has(u.name))
    .map((u) => ({
      name: u.name,
      url: u.url,
      fields: [...new Set(forwarded)].map((f) => FIELD_LABEL[f]),
      assertion: u.assertion !== undefined,
    }))

  const retention = retentionOf(config, toComplete)

  const practitioners = d?.expectedVolume?.practitioners ?? config.psc.onboarding.expectedUsers ?? null
  const loginsPerDay = d?.expectedVolume?.loginsPerDay ?? null
  if (practitioners === null) toComplete.push('declaration.expectedVolume.practitioners (ou psc.expectedUsers)')
  if (loginsPerDay === null) toComplete.push('declaration.expectedVolume.loginsPerDay')
  const productionDate = d?.productionDate ?? null
  if (productionDate === null) toComplete.push('declaration.productionDate')
  const contact = (key: 'controller' | 'dpo' | 'technical') => {
    const c = d?.contacts[key]
    if (c === undefined) toComplete.push(`declaration.contacts.${key}`)
    return c ?? null
  }
  return {
    data: { nationalId: true, sectoral: true, sectoralUses },
    recipients,
    retention,
    volume: { practitioners, loginsPerDay, loginsPerYear: loginsPerDay === null ? null : loginsPerDay * 365 },
    productionDate,
    contacts: { controller: contact('controller'), dpo: contact('dpo'), technical: contact('technical') },
    toComplete,
    outside: OUTSIDE,
  }
}

/** 8h, 30 min, 1 j: a duration as the form's reader writes it. */
function durationText(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} j`
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`
  return `${Math.round(ms / 60_000)} min`
}

function retentionOf(config: GatewayConfig, toComplete: string[]): DatapassSheet['retention'] {
  const a = config.audit
  const stated = config.declaration?.retentionMonths
  const sessions = `sessions : au plus ${durationText(config.session.absoluteTimeoutMs)}`
  const period = a.retention === undefined ? undefined : parseRetention(a.retention)
  if (a.file !== undefined && period !== undefined)
    return {
      months: retentionMonths(period),
      how: `fichiers d'audit supprimés par la passerelle après ${period.count} ${period.unit === 'months' ? 'mois' : 'jours'} (rotation tous les ${a.rotatedEveryMs === undefined ? '?' : durationText(a.rotatedEveryMs)}) ; ${sessions}`,
    }
  if (a.file !== undefined) {
    toComplete.push('audit.retention (et audit.rotatedEvery)')
    return {
      months: null,
      how: `audit.file sans audit.retention : la passerelle ne supprime pas ses fichiers d'audit ; ${sessions}`,
    }
  }
  if (stated !== undefined)
    return {
      months: stated,
      how: `journal d'audit envoyé vers ${a.syslog !== undefined ? 'syslog' : 'la sortie standard'} : la durée est tenue par la plateforme de journaux, pas par la passerelle ; ${sessions}`,
    }
  toComplete.push('declaration.retentionMonths (durée de conservation de la plateforme de journaux)')
  return {
    months: null,
    how: `journal d'audit envoyé vers ${a.syslog !== undefined ? 'syslog' : 'la sortie standard'} : la durée est celle de la plateforme de journaux, que la passerelle ne connaît pas ; ${sessions}`,
  }
}

function contactText(c: DatapassContact | null, key: string): string {
  if (c === null) return `(à définir : declaration.contacts.${key})`
  return [c.name, c.role, c.email, c.phone].filter((x) => x !== undefined).join(', ')
}

export function formatDatapassSheet(s: DatapassSheet): string {
  const cell = (v: string) => v.replaceAll('|', '\\|')
  const unset = (key: string) => `(à définir : ${key})`
  const v = s.volume
  const rows: Array<[string, string]> = [
    ['Données demandées', `Identifiant national : oui. Données sectorielles : ${s.data.sectoral ? 'oui' : 'non'}`],
    ['Usage des données sectorielles', s.data.sectoralUses.join(' ; ')],
    [
      'Destinataires des données',
      s.recipients.length === 0
        ? 'aucune application (toutes les routes sont publiques)'
        : s.recipients
            .map(
              (r) =>
                `${r.name} (${r.url}) : ${r.fields.length === 0 ? 'aucune donnée' : r.fields.join(', ')}${r.assertion ? ', par en-têtes et assertion signée' : ', par en-têtes'}`,
            )
            .join(' ; '),
    ],
    [
      'Durée de conservation (mois)',
      `${s.retention.months === null ? '(à définir)' : String(s.retention.months)} — ${s.retention.how}`,
    ],
    [
      'Volumétrie',
      `${v.practitioners === null ? unset('declaration.expectedVolume.practitioners') : `${v.practitioners} praticiens`} ; ` +
        (v.loginsPerDay === null
          ? unset('declaration.expectedVolume.loginsPerDay')
          : `${v.loginsPerDay} connexions par jour (environ ${v.loginsPerYear} par an)`),
    ],
    ['Date de mise en production', s.productionDate ?? unset('declaration.productionDate')],
    ['Responsable de traitement', contactText(s.contacts.controller, 'controller')],
    ['Délégué à la protection des données (DPO)', contactText(s.contacts.dpo, 'dpo')],
    ['Responsable technique', contactText(s.contacts.technical, 'technical')],
  ]
  const out = [
    '# Demande Datapass — habilitation Pro Santé Connect',
    '',
    'Ce que la configuration sait de la demande Datapass (à remplir avant le formulaire par environnement).',
    '',
    '| Champ | Valeur |',
    '|---|---|',
    ...rows.map(([k, val]) => `| ${cell(k)} | ${cell(val)} |`),
    '',
  ]
  if (s.toComplete.length > 0) {
    out.push(`## À compléter dans la configuration (${s.toComplete.length})`, '')
    for (const k of s.toComplete) out.push(`- ${k}`)
    out.push('')
  }
  out.push('## Ce que la configuration ne peut pas savoir', '')
  for (const o of s.outside) out.push(`- ${o}`)
  return `${out.join('\n')}\n`
}
