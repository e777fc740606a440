// ANS's onboarding ("raccordement") rules, as pure functions: what ANS accepts as a redirect or logout
// URL, how a URL the gateway sends matches the strings ANS registered, and what makes a clear
// "dénomination" (the service name shown on the practitioner's phone).

/** One rule broken, in words an integrator can act on. `rule` is stable (tests, JSON output). */
export interface UrlProblem {
  rule: 'https' | 'ip-address' | 'wildcard-not-at-end' | 'fragment' | 'not-a-url' | 'credentials'
  message: string
  /** the same in French, for raccordement's sheet */
  fr: string
}

const IPV4 = /^[0-9]{1,3}(\.[0-9]{1,3}){3}$/

/** The rules ANS applies to a redirect or logout URL at registration (a trailing `*` is allowed). */
export function ansUrlProblems(registered: string): UrlProblem[] {
  const problems: UrlProblem[] = []
  const star = registered.indexOf('*')
  if (star !== -1 && star !== registered.length - 1) {
    problems.push({
      rule: 'wildcard-not-at-end',
      message: `"*" is allowed only as the last character (found at position ${star + 1})`,
      fr: `« * » n'est permis qu'en dernier caractère (trouvé en position ${star + 1})`,
    })
  }
  const bare = registered.endsWith('*') ? registered.slice(0, -1) : registered
  let url: URL
  try {
    // a wildcard cut in the middle of the host would not parse: test the part before it
    url = new URL(bare.replaceAll('*', 'x'))
  } catch {
    problems.push({ rule: 'not-a-url', message: 'not an absolute URL', fr: 'pas une URL absolue' })
    return problems
  }
  if (url.protocol !== 'https:')
    problems.push({
      rule: 'https',
      message: `ANS requires https://, this URL uses ${url.protocol}//`,
      fr: `l'ANS exige https://, cette URL utilise ${url.protocol}//`,
    })
  const host = url.hostname
  if (IPV4.test(host) || host.startsWith('['))
    problems.push({
      rule: 'ip-address',
      message: `ANS refuses an IP address (${host}): use the DNS name of the gateway`,
      fr: `l'ANS refuse une adresse IP (${host}) : utilisez le nom DNS de la passerelle`,
    })
  if (url.username !== '' || url.password !== '')
    problems.push({
      rule: 'credentials',
      message: 'a URL with credentials is refused',
      fr: 'une URL avec identifiants est refusée',
    })
  if (bare.includes('#'))
    problems.push({
      rule: 'fragment',
      message: 'a URL with a fragment (#) is refused',
      fr: 'une URL avec fragment (#) est refusée',
    })
  return problems
}

export type RegisteredMatch =
  | { ok: true; registered: string }
  | { ok: false; reason: 'none-registered' | 'case' | 'no-match'; message: string; fr: string; near?: string }

/**
 * Does PSC accept `sent` for one of the `registered` strings? Exact, case-sensitive comparison; a
 * registered string ending in `*` matches every URL that starts with what comes before the `*`.
 */
export function matchRegistered(sent: string, registered: readonly string[]): RegisteredMatch {
  if (registered.length === 0)
    return { ok: false, reason: 'none-registered', message: 'no URL registered', fr: 'aucune URL enregistrée' }
  for (const r of registered) {
    if (r.endsWith('*') ? sent.startsWith(r.slice(0, -1)) : sent === r) return { ok: true, registered: r }
  }
  const lower = sent.toLowerCase()
  for (const r of registered) {
    const l = r.toLowerCase()
    if (l.endsWith('*') ? lower.startsWith(l.slice(0, -1)) : lower === l) {
      return {
        ok: false,
        reason: 'case',
        near: r,
        message: `"${sent}" differs from the registered "${r}" only by upper/lower case; PSC compares exactly`,
        fr: `« ${sent} » ne diffère de l'URL enregistrée « ${r} » que par des majuscules ou minuscules ; PSC compare exactement`,
      }
    }
  }
  return {
    ok: false,
    reason: 'no-match',
    message: `"${sent}" matches none of the registered URLs (${registered.map((r) => `"${r}"`).join(', ')})`,
    fr: `« ${sent} » ne correspond à aucune des URL enregistrées (${registered.map((r) => `« ${r} »`).join(', ')})`,
  }
}

export interface NameProblem {
  rule: 'too-short' | 'too-long' | 'technical' | 'acronym' | 'test-word' | 'url'
  message: string
  /** the same in French, for raccordement's sheet */
  fr: string
}

/** ANS shows the name in one line on a phone: keep it short enough to be read whole. */
export const SERVICE_NAME_MAX = 50
export const SERVICE_NAME_MIN = 4

/** What would make practitioners hesitate before accepting "[Dénomination] demande l'accès à votre profil". */
export function serviceNameProblems(
  name: string,
  opts: { clientId?: string; production?: boolean } = {},
): NameProblem[] {
  const problems: NameProblem[] = []
  const n = name.trim()
  const length = [...n].length
  if (length < SERVICE_NAME_MIN)
    problems.push({
      rule: 'too-short',
      message: `${length} characters: too short to tell practitioners what asks for their profile`,
      fr: `${length} caractères : trop court pour dire aux praticiens qui demande l'accès à leur profil`,
    })
  if (length > SERVICE_NAME_MAX)
    problems.push({
      rule: 'too-long',
      message: `${length} characters: more than ${SERVICE_NAME_MAX}, it will be cut on the phone`,
      fr: `${length} caractères : plus de ${SERVICE_NAME_MAX}, il sera coupé sur le téléphone`,
    })
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(n) || /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(n)) {
    problems.push({
      rule: 'url',
      message:
        'an address is not a name: write what the service is for practitioners (e.g. "Dossier patient – CH de Arles")',
      fr: "une adresse n'est pas un nom : écrivez ce qu'est le service pour les praticiens (par exemple « Dossier patient – CH de Arles »)",
    })
  } else if ((opts.clientId !== undefined && n === opts.clientId) || (/[_0-9]/.test(n) && !/\s/.test(n))) {
    problems.push({
      rule: 'technical',
      message:
        'looks like a technical identifier: write the name practitioners know the service by, with the establishment',
      fr: "ressemble à un identifiant technique : écrivez le nom sous lequel les praticiens connaissent le service, avec l'établissement",
    })
  } else if (/^[A-Z0-9]{2,6}$/.test(n)) {
    problems.push({
      rule: 'acronym',
      message: `an acronym alone ("${n}") is unclear on a phone: add what it is and the establishment (e.g. "${n} – Hôpital de ...")`,
      fr: `un sigle seul (« ${n} ») est peu clair sur un téléphone : ajoutez ce qu'il désigne et l'établissement (par exemple « ${n} – Hôpital de ... »)`,
    })
  }
  if (opts.production && /\b(test|tests|recette|demo|démo|dev|bas)\b/i.test(n)) {
    problems.push({
      rule: 'test-word',
      message: 'a test word in the production name: practitioners would see it',
      fr: 'un mot de test dans le nom de production : les praticiens le verraient',
    })
  }
  return problems
}
