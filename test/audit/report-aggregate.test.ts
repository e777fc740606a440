// The report's counting on crafted events: local days and hours in Europe/Paris (winter and summer
// time), the window's bounds, refusals per practitioner and address, CIBA outcomes, sessions
// outside working hours (nights, weekends, configurable hours), and lines that are not events.
import t from 'tap'
import {
  DEFAULT_WORKING_HOURS,
  MAX_KEPT,
  parseWorkingHours,
  ReportAggregator,
} from '../../src/audit/tools/report-aggregate.js'
import { reportSections } from '../../src/audit/tools/report-sections.js'
import { reportWords } from '../../src/audit/tools/report-text.js'

const WINDOW = { from: '2026-11-02', to: '2026-11-08' }

const access = (time: string, decision: string, over: Record<string, unknown> = {}) => ({
  log: 'audit',
  v: 1,
  time,
  event: 'access',
  decision,
  client: '10.0.0.1',
  route: 'dpi',
  method: 'GET',
  path: '/',
  status: decision === 'allow' ? 200 : 403,
  ...over,
})
const login = (time: string, outcome: string, over: Record<string, unknown> = {}) => ({
  log: 'audit',
  v: 1,
  time,
  event: 'login',
  outcome,
  client: '10.0.0.1',
  ...over,
})

t.test('days and hours are local (Europe/Paris), at the window bounds too', async (t) => {
  const a = new ReportAggregator(WINDOW)
  // 2026-11-01T23:30Z is 2026-11-02 00:30 in Paris (UTC+1 in November): inside the window.
  a.add(login('2026-11-01T23:30:00.000Z', 'succeeded', { profession: '10', idNat: '810000000001' }))
  // 2026-11-08T23:30Z is 2026-11-09 00:30 in Paris: after the window.
  a.add(login('2026-11-08T23:30:00.000Z', 'succeeded', { profession: '10' }))
  a.add(login('2026-11-03T08:15:00.000Z', 'failed', { idNat: '810000000002', client: '10.9.9.9' }))
  a.add(access('2026-11-03T08:16:00.000Z', 'deny', { idNat: '810000000002', client: '10.9.9.9', profession: '60' }))
  const f = a.figures
  t.equal(f.eventsRead, 4)
  t.equal(f.eventsInWindow, 3, 'the login of 9 November (local) is outside')
  t.same(f.days.get('2026-11-02'), { logins: 1, loginFailures: 0, denials: 0 })
  t.same(f.days.get('2026-11-03'), { logins: 0, loginFailures: 1, denials: 1 })
  t.equal(f.byHour[0]!.logins, 1, '00:30 local')
  t.equal(f.byHour[9]!.loginFailures, 1, '08:15Z is 09:15 local')
  t.equal(f.byHour[9]!.denials, 1)
  t.same(f.professions.get('10'), { logins: 1, loginFailures: 0, denials: 0 })
  t.same(f.professions.get('60'), { logins: 0, loginFailures: 0, denials: 1 })
  t.same(f.professions.get('(inconnue)'), { logins: 0, loginFailures: 1, denials: 0 })
  t.equal(f.refusedPractitioners.get('810000000002'), 2)
  t.equal(f.refusedClients.get('10.9.9.9'), 2)
})

t.test('summer time: UTC+2', async (t) => {
  const a = new ReportAggregator({ from: '2026-07-01', to: '2026-07-31' })
  a.add(login('2026-07-01T05:30:00.000Z', 'succeeded', { session: 'SSSSSSSSSSSSSSS1' }))
  t.equal(a.figures.byHour[7]!.logins, 1, '05:30Z is 07:30 in Paris in July')
  t.equal(a.figures.offHours.size, 0, '07:30 on a Wednesday is within working hours')
})

t.test('routes, CIBA outcomes; chain markers and other logs are not events', async (t) => {
  const a = new ReportAggregator(WINDOW)
  a.add(access('2026-11-04T10:00:00.000Z', 'allow'))
  a.add(access('2026-11-04T10:00:01.000Z', 'allow'))
  a.add(access('2026-11-04T10:00:02.000Z', 'deny', { route: 'pharmacie' }))
  a.add(access('2026-11-04T10:00:03.000Z', 'reject', { route: undefined }))
  for (const outcome of ['requested', 'requested', 'approved', 'denied'])
    a.add({ log: 'audit', v: 1, time: '2026-11-04T10:01:00.000Z', event: 'ciba', outcome, idNat: 'x', client: 'y' })
  a.addLine('{"log":"audit","seq":0,"time":"2026-11-04T10:00:00.000Z","event":"chain-start","file":"a"}')
  a.addLine('{"log":"app","time":"2026-11-04T10:00:00.000Z","event":"login","outcome":"succeeded"}')
  a.addLine('{"log":"audit","time":"2026-11-04T10:00:00.000Z","event":"login","outcome":"succ')
  a.addLine('not json')
  t.same(a.figures.routes.get('dpi'), { allowed: 2, denied: 0 })
  t.same(a.figures.routes.get('pharmacie'), { allowed: 0, denied: 1 })
  t.same(Object.fromEntries(a.figures.ciba), { requested: 2, approved: 1, denied: 1 })
  t.equal(a.figures.eventsRead, 8, 'chain-start, another log, a cut line and junk are not counted')
  t.equal(a.figures.days.get('2026-11-04')!.logins, 0)
})

t.test('sessions outside working hours: nights, weekends, one entry per session', async (t) => {
  const a = new ReportAggregator(WINDOW)
  // Tuesday 3 November, 21:10 and 21:40 local: one session, night
  a.add(login('2026-11-03T20:10:00.000Z', 'succeeded', { session: 'NIGHTNIGHTNIGHT1', idNat: '8100A' }))
  a.add(access('2026-11-03T20:40:00.000Z', 'allow', { session: 'NIGHTNIGHTNIGHT1', idNat: '8100A' }))
  // Tuesday 14:00 local: working hours
  a.add(access('2026-11-03T13:00:00.000Z', 'allow', { session: 'DAYDAYDAYDAYDAY1', idNat: '8100B' }))
  // Saturday 7 November 10:00 local: weekend
  a.add(access('2026-11-07T09:00:00.000Z', 'allow', { session: 'WEEKENDWEEKEND01', idNat: '8100C' }))
  // A public route at night: nobody's session
  a.add(access('2026-11-03T22:00:00.000Z', 'allow', { route: 'public' }))
  const off = a.figures.offHours
  t.same([...off.keys()].sort(), ['NIGHTNIGHTNIGHT1', 'WEEKENDWEEKEND01'])
  t.match(off.get('NIGHTNIGHTNIGHT1'), { idNat: '8100A', requests: 1, night: true, weekend: false })
  t.equal(off.get('NIGHTNIGHTNIGHT1')!.last, '2026-11-03T20:40:00.000Z')
  t.match(off.get('WEEKENDWEEKEND01'), { night: false, weekend: true })

  const worked = new ReportAggregator(WINDOW, {
    ...DEFAULT_WORKING_HOURS,
    ...parseWorkingHours('08:00-22:00'),
    weekends: false,
  })
  worked.add(login('2026-11-03T20:10:00.000Z', 'succeeded', { session: 'NIGHTNIGHTNIGHT1' }))
  worked.add(access('2026-11-07T09:00:00.000Z', 'allow', { session: 'WEEKENDWEEKEND01', idNat: '8100C' }))
  worked.add(access('2026-11-03T06:59:00.000Z', 'allow', { session: 'EARLYEARLYEARLY1', idNat: '8100D' }))
  t.same([...worked.figures.offHours.keys()], ['EARLYEARLYEARLY1'], '07:59 local is before 08:00; weekends worked')
})

t.test('working hours are parsed strictly', async (t) => {
  t.same(parseWorkingHours('07:00-20:00'), { start: 420, end: 1200 })
  for (const bad of ['7-20', '20:00-07:00', '07:60-20:00', '07:00-25:00', ''])
    t.throws(() => parseWorkingHours(bad), /HH:MM-HH:MM/, bad)
})

t.test('sections: profession labels, top refused first, French and English words', async (t) => {
  const a = new ReportAggregator(WINDOW)
  for (let i = 0; i < 3; i++) a.add(access('2026-11-04T10:00:00.000Z', 'deny', { idNat: 'B', profession: '21' }))
  a.add(access('2026-11-04T10:00:00.000Z', 'deny', { idNat: 'A', profession: '10' }))
  const fr = reportSections(a.figures, reportWords('fr'))
  const byId = Object.fromEntries(fr.map((s) => [s.id, s]))
  t.same(byId['praticiens-refuses']!.rows, [
    ['B', 3],
    ['A', 1],
  ])
  t.same(byId.professions!.rows[0], ['Pharmacien', '21', 0, 0, 3])
  t.equal(byId.heures!.rows.length, 24)
  t.equal(byId.jours!.columns[0], 'Jour')
  const en = reportSections(a.figures, reportWords('en'))
  t.equal(en[0]!.columns[0], 'Day')
})

t.test('addresses, practitioners and off-hours sessions are capped: a scan cannot exhaust memory', async (t) => {
  const a = new ReportAggregator(WINDOW)
  const extra = 5
  for (let i = 0; i < MAX_KEPT + extra; i++) {
    const who = { idNat: `id${i}`, client: `c${i}`, session: `S${String(i).padStart(15, '0')}` }
    a.add(access('2026-11-07T10:00:00.000Z', 'deny', who))
    a.add(access('2026-11-07T10:00:00.000Z', 'allow', who))
  }
  const f = a.figures
  t.equal(f.refusedClients.size, MAX_KEPT)
  t.equal(f.refusedClientsOverflow, extra)
  t.equal(f.refusedPractitioners.size, MAX_KEPT)
  t.equal(f.refusedPractitionersOverflow, extra)
  t.equal(f.offHours.size, MAX_KEPT)
  t.equal(f.offHoursOverflow, extra)
  const sections = reportSections(f, reportWords('fr'))
  t.equal(sections.find((s) => s.id === 'adresses-refusees')!.overflow, extra, 'the report says how many were left out')
})
