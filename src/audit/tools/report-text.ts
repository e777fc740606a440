// The words of the security team's report, in French (default) and English (--lang en).
export type ReportLang = 'fr' | 'en'

const FR = {
  title: "Rapport d'audit de la passerelle Pro Santé Connect",
  period: (from: string, to: string, tz: string) => `Période : du ${from} au ${to} (heure de ${tz})`,
  generated: (at: string) => `Produit le ${at} à partir de la piste d'audit chaînée`,
  chainOk: (lines: number, files: number) =>
    `Chaîne vérifiée : intacte (${lines} lignes, ${files} fichier(s)). Les chiffres ci-dessous reposent sur une piste non modifiée.`,
  chainBroken: (at: string, kind: string) =>
    `CHAÎNE ROMPUE : première rupture à ${at} (${kind}). La piste a pu être modifiée : les chiffres ci-dessous sont donnés tels que lus, sans garantie. Lancez « psc-gateway audit verify » pour le détail.`,
  gaps: (lost: number, records: number) =>
    `Lacunes : ${lost} événement(s) perdu(s) selon ${records} enregistrement(s) de la passerelle (elle n'a pas pu les écrire ; ce n'est pas une falsification).`,
  noHead: 'Sans --expect-head, des lignes coupées à la toute fin du dernier fichier ne peuvent pas être détectées.',
  findings: 'Constats de la vérification',
  events: (read: number, inWindow: number) => `${inWindow} événement(s) dans la période, sur ${read} lu(s).`,
  day: 'Jour',
  hour: 'Heure',
  logins: 'Connexions',
  loginFailures: 'Connexions refusées',
  denials: 'Accès refusés',
  profession: 'Profession',
  code: 'Code',
  route: 'Route',
  allowed: 'Accès autorisés',
  outcome: 'Issue',
  count: 'Nombre',
  idNat: 'Identifiant national (idNat)',
  refusals: 'Refus',
  client: 'Adresse cliente',
  session: 'Session (référence)',
  first: 'Première activité',
  last: 'Dernière activité',
  requests: 'Requêtes',
  why: 'Motif',
  night: 'hors horaires',
  weekend: 'week-end',
  sections: {
    days: 'Connexions et refus par jour',
    hours: 'Connexions et refus par heure de la journée',
    professions: 'Par profession',
    routes: 'Par route',
    ciba: 'Connexions par notification (CIBA) : issues',
    practitioners: 'Praticiens les plus refusés',
    clients: 'Adresses clientes les plus refusées',
    offHours: 'Sessions hors des heures ouvrées',
  },
  offHoursNote: (start: string, end: string, weekends: boolean) =>
    `Heures ouvrées : ${start}–${end}${weekends ? ', du lundi au vendredi' : ''}. Une session y figure si une connexion ou un accès autorisé a eu lieu en dehors.`,
  overflow: (n: number) => `… et ${n} de plus non détaillé(s) (table limitée).`,
  none: 'Aucun.',
  unknownProfession: '(inconnue)',
  noName: "La piste ne contient pas les noms : rapprochez les identifiants nationaux de l'annuaire (RPPS).",
  ciba: {
    requested: 'demandée',
    refused: 'non envoyée (limites, saisie)',
    approved: 'approuvée',
    denied: 'refusée par le praticien',
    expired: 'expirée',
    unknown_id: 'identifiant inconnu de PSC',
    failed: 'échec (PSC)',
    cancelled: 'abandonnée',
  } as Record<string, string>,
  chart: (title: string) => `Graphique : ${title}`,
}

export type ReportWords = typeof FR

const EN: ReportWords = {
  title: 'Pro Santé Connect gateway audit report',
  period: (from, to, tz) => `Period: ${from} to ${to} (${tz} time)`,
  generated: (at) => `Generated on ${at} from the chained audit trail`,
  chainOk: (lines, files) =>
    `Chain verified: intact (${lines} lines, ${files} file(s)). The figures below rest on an unaltered trail.`,
  chainBroken: (at, kind) =>
    `CHAIN BROKEN: first break at ${at} (${kind}). The trail may have been altered: the figures below are given as read, without guarantee. Run "psc-gateway audit verify" for the details.`,
  gaps: (lost, records) =>
    `Gaps: ${lost} event(s) lost according to ${records} record(s) written by the gateway (it could not write them; not tampering).`,
  noHead: 'Without --expect-head, lines cut from the very end of the newest file cannot be detected.',
  findings: 'Verification findings',
  events: (read, inWindow) => `${inWindow} event(s) in the period, of ${read} read.`,
  day: 'Day',
  hour: 'Hour',
  logins: 'Logins',
  loginFailures: 'Failed logins',
  denials: 'Denied requests',
  profession: 'Profession',
  code: 'Code',
  route: 'Route',
  allowed: 'Allowed requests',
  outcome: 'Outcome',
  count: 'Count',
  idNat: 'National id (idNat)',
  refusals: 'Refusals',
  client: 'Client address',
  session: 'Session (reference)',
  first: 'First activity',
  last: 'Last activity',
  requests: 'Requests',
  why: 'Why',
  night: 'outside hours',
  weekend: 'weekend',
  sections: {
    days: 'Logins and refusals per day',
    hours: 'Logins and refusals per hour of day',
    professions: 'Per profession',
    routes: 'Per route',
    ciba: 'Logins by push (CIBA): outcomes',
    practitioners: 'Most refused practitioners',
    clients: 'Most refused client addresses',
    offHours: 'Sessions outside working hours',
  },
  offHoursNote: (start, end, weekends) =>
    `Working hours: ${start}–${end}${weekends ? ', Monday to Friday' : ''}. A session is listed when a login or an allowed request happened outside them.`,
  overflow: (n) => `… and ${n} more not itemised (table capped).`,
  none: 'None.',
  unknownProfession: '(unknown)',
  noName: 'The trail holds no names: match the national ids against the directory (RPPS).',
  ciba: {
    requested: 'requested',
    refused: 'not sent (limits, input)',
    approved: 'approved',
    denied: 'denied by the practitioner',
    expired: 'expired',
    unknown_id: 'id unknown to PSC',
    failed: 'failed (PSC)',
    cancelled: 'cancelled',
  },
  chart: (title) => `Chart: ${title}`,
}

export function reportWords(lang: ReportLang): ReportWords {
  return lang === 'en' ? EN : FR
}
