// The French table `psc-gateway sessions list` prints for the security team.

/** A session as the admin API returns it (dates in ISO 8601). */
export interface ListedSession {
  ref: string
  idNat: string
  rpps?: string
  familyName: string
  givenName: string
  createdAt: string
  lastSeenAt: string
  loginMethod?: string
  authMode?: string
  loginClient?: string
  lastClient?: string
  lastRoute?: string
}

/** How the practitioner logged in, in the words of a hospital's security team. */
export function loginLabel(s: Pick<ListedSession, 'loginMethod' | 'authMode'>): string {
  if (s.loginMethod === 'ciba') return 'CIBA (e-CPS, notification)'
  if (s.authMode === 'CARD') return 'PSC carte CPS'
  if (s.authMode !== undefined && /MOBILE|ECPS|E-CPS|APP/i.test(s.authMode)) return 'PSC e-CPS'
  if (s.loginMethod === 'redirect') return s.authMode === undefined ? 'PSC' : `PSC (${s.authMode})`
  return 'inconnue'
}

function frenchTime(iso: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return d.toLocaleString('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'short', timeStyle: 'medium' })
}

const COLUMNS = [
  'Praticien',
  'idNat',
  'Adresse',
  'Début',
  'Dernière activité',
  'Connexion',
  'Dernière adresse demandée',
  'Référence',
] as const

export function sessionsTable(sessions: ListedSession[]): string {
  if (sessions.length === 0) return 'Aucune session en cours.\n'
  const rows = sessions.map((s) => [
    `${s.givenName} ${s.familyName}`.trim(),
    s.idNat,
    s.lastClient ?? s.loginClient ?? '',
    frenchTime(s.createdAt),
    frenchTime(s.lastSeenAt),
    loginLabel(s),
    s.lastRoute ?? '',
    s.ref,
  ])
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()
  const count = sessions.length === 1 ? '1 session en cours.' : `${sessions.length} sessions en cours.`
  return `${[line(COLUMNS), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')}\n${count}\n`
}
