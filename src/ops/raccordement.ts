// `psc-gateway raccordement`: what to enter in ANS's onboarding forms (Datapass, then one form per
// environment) for this configuration, with ANS's rules applied to every value. The rules
// themselves live in psc/onboarding.ts.
import type { GatewayConfig } from '../config/types.js'
import { ansUrlProblems, matchRegistered, serviceNameProblems } from '../psc/onboarding.js'
import { PROFESSIONS } from '../psc/professions.js'
import { publicUrlProblems } from '../psc/public-url.js'
import type { CliLanguage } from './doctor-text.js'

export interface SheetProblem {
  field: 'publicUrl' | 'denomination' | 'redirectUris' | 'logoutUris' | 'users' | 'professions' | 'clientAuthentication'
  rule: string
  message: string
}

export interface OnboardingSheet {
  environment: { code: GatewayConfig['psc']['environment']; label: string; issuer: string }
  requestType: 'Fournisseur de service'
  clientId: string
  clientAuthentication: string
  ciba: { used: boolean; only: boolean }
  denomination: string | null
  redirectUris: string[]
  logoutUris: string[]
  backchannelLogoutUri: string | null
  professions: { all: boolean; list: Array<{ code: string; label: string }> }
  authenticationMeans: string[]
  expectedUsers: number | null
  problems: SheetProblem[]
}

const ENVIRONMENT_LABEL = {
  bas: 'BAS (bac à sable)',
  production: 'Production',
  custom: 'Personnalisé (émulateur ou autre)',
} as const

/** Is CIBA switched on? Read loosely: the psc.ciba key belongs to the CIBA work. */
function cibaEnabled(psc: GatewayConfig['psc']): boolean {
  const ciba = (psc as { ciba?: unknown }).ciba
  if (ciba === undefined || ciba === false || ciba === null) return false
  if (typeof ciba === 'object' && (ciba as { enabled?: unknown }).enabled === false) return false
  return true
}

/** CIBA only: every route and host uses the e-CPS notification, none the browser login. */
function cibaOnly(psc: GatewayConfig['psc']): boolean {
  const c = (psc as { ciba?: { mode?: string; hosts?: Record<string, string>; routes?: Record<string, string> } }).ciba
  if (c?.mode !== 'ciba') return false
  return [...Object.values(c.hosts ?? {}), ...Object.values(c.routes ?? {})].every((m) => m === 'ciba')
}

/** The problems' sentences: French, the language of ANS's forms; English by choice (--lang en). */
const PROBLEM_TEXT = {
  fr: {
    nameMissing:
      "psc.serviceName n'est pas renseigné : écrivez le nom que les praticiens liront sur leur téléphone (init --service-name)",
    registered: (r: string) => `URL enregistrée ${r}`,
    upperCase: (sent: string) =>
      `${sent} contient des majuscules : saisissez-la exactement ainsi, PSC compare en respectant la casse`,
    unknownCode: (code: string) =>
      `le code profession ${code} n'est pas dans TRE_G15 : vérifiez-le (psychologues, ostéopathes... sont dans TRE_R95)`,
    usersMissing: "le nombre d'utilisateurs n'est pas renseigné : psc.expectedUsers, ou --users N (init --users N)",
    cibaNeedsCertificate:
      "en production, un client CIBA s'authentifie par certificat (tls_client_auth, IGC Santé) : un secret client ne suffit pas (docs/ciba.md)",
  },
  en: {
    nameMissing:
      'psc.serviceName is not set: write the name practitioners will read on their phone (init --service-name)',
    registered: (r: string) => `registered ${r}`,
    upperCase: (sent: string) => `${sent} has upper-case letters: enter it exactly so, PSC compares case-sensitively`,
    unknownCode: (code: string) =>
      `profession code ${code} is not in TRE_G15: check it (psychologues, ostéopathes... are in TRE_R95)`,
    usersMissing: 'the number of users is not set: psc.expectedUsers, or --users N (init --users N)',
    cibaNeedsCertificate:
      'in production, a CIBA client authenticates with a certificate (tls_client_auth, IGC Santé): a client secret is not enough (docs/ciba.md)',
  },
} satisfies Record<CliLanguage, unknown>

export function buildOnboardingSheet(
  config: GatewayConfig,
  opts: { users?: number; lang?: CliLanguage } = {},
): OnboardingSheet {
  const psc = config.psc
  const problems: SheetProblem[] = []
  const o = psc.onboarding
  const lang = opts.lang ?? 'fr'
  const t = PROBLEM_TEXT[lang]
  const say = (p: { message: string; fr: string }) => (lang === 'fr' ? p.fr : p.message)

  const name = o.serviceName ?? null
  if (name === null) problems.push({ field: 'denomination', rule: 'missing', message: t.nameMissing })
  else
    for (const p of serviceNameProblems(name, { clientId: psc.clientId, production: psc.environment === 'production' }))
      problems.push({ field: 'denomination', rule: p.rule, message: say(p) })

  const urls = (field: 'redirectUris' | 'logoutUris', sent: string, registered: string[] | undefined) => {
    const colon = lang === 'fr' ? ' :' : ':'
    for (const p of ansUrlProblems(sent)) problems.push({ field, rule: p.rule, message: `${sent}${colon} ${say(p)}` })
    for (const r of registered ?? [])
      for (const p of ansUrlProblems(r))
        problems.push({ field, rule: p.rule, message: `${t.registered(r)}${colon} ${say(p)}` })
    if (registered !== undefined) {
      const m = matchRegistered(sent, registered)
      if (!m.ok) problems.push({ field, rule: m.reason, message: say(m) })
    }
    if (/[A-Z]/.test(new URL(sent).pathname)) {
      problems.push({ field, rule: 'case', message: t.upperCase(sent) })
    }
  }
  // The redirect URIs are built from publicUrl's origin: what the origin hides is flagged here (an IP
  // address is flagged once, on the redirect URIs).
  const writtenPublicUrl = config.publicUrlAsWritten ?? config.publicUrl
  for (const p of publicUrlProblems(writtenPublicUrl)) {
    if (p.rule !== 'ip-address')
      problems.push({
        field: 'publicUrl',
        rule: p.rule,
        message: lang === 'fr' ? `${writtenPublicUrl} : ${p.messageFr}` : `${writtenPublicUrl}: ${p.message}`,
      })
  }
  urls('redirectUris', psc.redirectUri, o.registered?.redirectUris)
  urls('logoutUris', psc.postLogoutRedirectUri, o.registered?.postLogoutRedirectUris)

  // professions: what the route rules let in
  let all = false
  const codes = new Set<string>()
  for (const r of config.routes) {
    if (r.access === 'public') continue
    if (r.access === 'authenticated' || r.access.professions === undefined) {
      all = true
      continue
    }
    for (const c of r.access.professions) codes.add(c)
  }
  const list = [...codes]
    .sort()
    .map((code) => ({ code, label: PROFESSIONS[code] ?? `code ${code} (absent de TRE_G15 : TRE_R95 ?)` }))
  for (const { code } of list) {
    if (PROFESSIONS[code] === undefined)
      problems.push({ field: 'professions', rule: 'unknown-code', message: t.unknownCode(code) })
  }

  const users = opts.users ?? o.expectedUsers ?? null
  if (users === null) problems.push({ field: 'users', rule: 'missing', message: t.usersMissing })

  const ciba = cibaEnabled(psc)
  // ANS registers production CIBA clients with a certificate only (docs/ciba.md).
  if (ciba && psc.environment === 'production' && psc.clientAuth !== 'tls_client_auth') {
    problems.push({
      field: 'clientAuthentication',
      rule: 'ciba-needs-tls-client-auth',
      message: t.cibaNeedsCertificate,
    })
  }
  return {
    environment: { code: psc.environment, label: ENVIRONMENT_LABEL[psc.environment], issuer: psc.issuer },
    requestType: 'Fournisseur de service',
    clientId: psc.clientId,
    clientAuthentication:
      psc.clientAuth === 'tls_client_auth'
        ? `tls_client_auth (certificat ${psc.outbound.certificate?.info.subject ?? 'non configuré'})`
        : `${psc.clientAuth} (secret client)`,
    ciba: { used: ciba, only: ciba && cibaOnly(psc) },
    denomination: name,
    redirectUris: [psc.redirectUri],
    logoutUris: [psc.postLogoutRedirectUri],
    backchannelLogoutUri: psc.backchannelLogout ? `${config.publicUrl}${config.prefix}/backchannel-logout` : null,
    professions: { all, list },
    authenticationMeans:
      o.otherAuthenticationMeans.length === 0
        ? ['PSC uniquement']
        : ['Pro Santé Connect', ...o.otherAuthenticationMeans],
    expectedUsers: users,
    problems,
  }
}

export function formatOnboardingSheet(s: OnboardingSheet): string {
  const cell = (v: string) => v.replaceAll('|', '\\|')
  const professions = s.professions.all
    ? `Toutes les professions de santé${s.professions.list.length > 0 ? ` (certaines pages : ${s.professions.list.map((p) => p.label).join(', ')})` : ''}`
    : s.professions.list.map((p) => `${p.label} (${p.code})`).join(', ') || 'aucune (toutes les routes sont publiques)'
  const rows: Array<[string, string]> = [
    ['Environnement', `${s.environment.label} — ${s.environment.issuer}`],
    ['Type de demande', s.requestType],
    ['Identifiant client (client_id)', s.clientId],
    ['Authentification du client', s.clientAuthentication],
    ['Dénomination du service', s.denomination ?? '(à définir : psc.serviceName)'],
    ['URL de redirection', s.redirectUris.join(', ')],
    ['URL de déconnexion', s.logoutUris.join(', ')],
    ['URL de déconnexion back-channel', s.backchannelLogoutUri ?? 'non utilisée'],
    ['Professions des utilisateurs', professions],
    [
      "Nombre d'utilisateurs",
      s.expectedUsers === null ? '(à définir : psc.expectedUsers ou --users)' : String(s.expectedUsers),
    ],
    ["Autres moyens d'authentification", s.authenticationMeans.join(', ')],
    [
      'CIBA',
      !s.ciba.used
        ? 'Non'
        : s.ciba.only
          ? 'Oui (seul moyen de connexion : pas de connexion par navigateur)'
          : 'Oui (en plus de la connexion par navigateur)',
    ],
    ['Service CIBA uniquement', s.ciba.only ? 'Oui' : 'Non'],
  ]
  const out = [
    `# Raccordement Pro Santé Connect — ${s.environment.label}`,
    '',
    'À saisir dans le formulaire ANS (demande Datapass, puis formulaire par environnement). Les URL sont à copier',
    'telles quelles : PSC les compare caractère par caractère, majuscules comprises.',
    '',
    '| Champ | Valeur |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${cell(k)} | ${cell(v)} |`),
    '',
  ]
  if (s.problems.length === 0) out.push("Aucun problème : ces valeurs respectent les règles de l'ANS.")
  else {
    out.push(`## À corriger avant l'envoi (${s.problems.length})`, '')
    for (const p of s.problems) out.push(`- **${p.field}** (${p.rule}) : ${p.message}`)
  }
  return `${out.join('\n')}\n`
}
