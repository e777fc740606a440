// The report's sections as plain tables (columns, rows, an optional chart), the one shape both the
// HTML page and the CSV files are written from, so they never disagree.
import { professionLabel } from '../../psc/professions.js'
import { top, type Counts, type ReportFigures } from './report-aggregate.js'
import type { ReportWords } from './report-text.js'

export interface ReportSection {
  /** a stable name: the CSV file's, the HTML anchor's */
  id: string
  title: string
  note?: string | undefined
  columns: string[]
  rows: (string | number)[][]
  /** rows' first column labels the bars; these columns (indexes) are the series drawn */
  chart?: { series: number[] } | undefined
  overflow?: number | undefined
}

/** How many practitioners and addresses the "most refused" tables list. */
export const TOP_N = 20

export function reportSections(f: ReportFigures, w: ReportWords): ReportSection[] {
  const countCols = [w.logins, w.loginFailures, w.denials]
  const countRow = (c: Counts) => [c.logins, c.loginFailures, c.denials]
  const days = [...f.days].sort((a, b) => (a[0] < b[0] ? -1 : 1))
  const professions = [...f.professions].sort(
    (a, b) => b[1].logins + b[1].denials - (a[1].logins + a[1].denials) || (a[0] < b[0] ? -1 : 1),
  )
  const routes = [...f.routes].sort((a, b) => b[1].denied - a[1].denied || (a[0] < b[0] ? -1 : 1))
  const ciba = [...f.ciba].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
  const offHours = [...f.offHours.values()].sort((a, b) => (a.first < b.first ? -1 : 1))
  const localTime = new Intl.DateTimeFormat('fr-FR', {
    timeZone: f.hours.timeZone,
    dateStyle: 'short',
    timeStyle: 'medium',
  })
  const local = (iso: string) => localTime.format(new Date(iso))
  const hh = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`
  return [
    {
      id: 'jours',
      title: w.sections.days,
      columns: [w.day, ...countCols],
      rows: days.map(([day, c]) => [day, ...countRow(c)]),
      chart: { series: [1, 2, 3] },
    },
    {
      id: 'heures',
      title: w.sections.hours,
      columns: [w.hour, ...countCols],
      rows: f.byHour.map((c, h) => [`${String(h).padStart(2, '0')}h`, ...countRow(c)]),
      chart: { series: [1, 2, 3] },
    },
    {
      id: 'professions',
      title: w.sections.professions,
      columns: [w.profession, w.code, ...countCols],
      rows: professions.map(([code, c]) => [
        code === '(inconnue)' ? w.unknownProfession : professionLabel(code) || code,
        code === '(inconnue)' ? '' : code,
        ...countRow(c),
      ]),
      chart: { series: [2, 3, 4] },
    },
    {
      id: 'routes',
      title: w.sections.routes,
      columns: [w.route, w.allowed, w.denials],
      rows: routes.map(([route, r]) => [route, r.allowed, r.denied]),
      chart: { series: [1, 2] },
    },
    {
      id: 'ciba',
      title: w.sections.ciba,
      columns: [w.outcome, w.count],
      rows: ciba.map(([outcome, n]) => [w.ciba[outcome] ?? outcome, n]),
      chart: { series: [1] },
    },
    {
      id: 'praticiens-refuses',
      title: w.sections.practitioners,
      note: w.noName,
      columns: [w.idNat, w.refusals],
      rows: top(f.refusedPractitioners, TOP_N),
      overflow: f.refusedPractitionersOverflow > 0 ? f.refusedPractitionersOverflow : undefined,
    },
    {
      id: 'adresses-refusees',
      title: w.sections.clients,
      columns: [w.client, w.refusals],
      rows: top(f.refusedClients, TOP_N),
      overflow: f.refusedClientsOverflow > 0 ? f.refusedClientsOverflow : undefined,
    },
    {
      id: 'sessions-hors-heures',
      title: w.sections.offHours,
      note: w.offHoursNote(hh(f.hours.start), hh(f.hours.end), f.hours.weekends),
      columns: [w.session, w.idNat, w.client, w.first, w.last, w.requests, w.why],
      rows: offHours.map((s) => [
        s.session,
        s.idNat,
        s.client,
        local(s.first),
        local(s.last),
        s.requests,
        [s.night ? w.night : '', s.weekend ? w.weekend : ''].filter((x) => x !== '').join(', '),
      ]),
      overflow: f.offHoursOverflow > 0 ? f.offHoursOverflow : undefined,
    },
  ]
}
