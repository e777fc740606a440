// `psc-gateway audit report` run as a command over a real trail (written by the gateway's trail
// writer, rotated and gzip-compressed): the HTML says the chain is verified and holds the figures;
// the CSV files parse back (BOM, ";", French headers); an edited line still yields a report, marked
// broken at its file and line, exit 1; usage mistakes exit 2 with what was expected.
import t from 'tap'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { cli, EXPECTED, writeTrail } from './report-trail.js'

const WINDOW = ['--from', '2026-11-02', '--to', '2026-11-08']

/** A CSV of the report read back: ";" separated, quotes doubled. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  for (const line of text.split('\r\n').filter((l) => l !== '')) {
    const cells: string[] = []
    const re = /("(?:[^"]|"")*"|[^;]*)(;|$)/g
    for (let m = re.exec(line); m !== null && m.index < line.length; m = re.exec(line)) {
      const c = m[1]!
      cells.push(c.startsWith('"') ? c.slice(1, -1).replaceAll('""', '"') : c)
      if (m[2] === '') break
    }
    rows.push(cells)
  }
  return rows
}

t.test('an intact trail: the HTML page says verified and holds the figures of the window', async (t) => {
  const { dir } = await writeTrail()
  const out = join(dir, 'rapport.html')
  const r = cli(['report', dir, ...WINDOW, '--out', out])
  t.equal(r.code, 0, r.err)
  t.match(r.err, /^OK: 2 file\(s\)/m, 'the verdict on stderr too')
  const html = readFileSync(out, 'utf8')
  t.match(html, /data-chain="verified"/)
  t.match(html, /Chaîne vérifiée : intacte/)
  t.notMatch(html, /<script|<link|src=|@import|url\(/i, 'nothing to fetch, nothing to run')
  for (const day of EXPECTED.days) t.match(html, `<td>${day}</td>`, day)
  t.notMatch(html, /2026-11-10/, 'a day after the window is not counted')
  for (const p of EXPECTED.professions) t.match(html, `<td>${p}</td>`, p)
  t.match(html, /<td>NIGHTSESSION0001<\/td>/)
  t.match(html, /<html lang="fr">/)
  const en = cli(['report', dir, ...WINDOW, '--lang', 'en'])
  t.equal(en.code, 0)
  t.match(en.out, /Chain verified: intact/, 'English with --lang en, on stdout without --out')
})

t.test('CSV: one file per section, parsed back', async (t) => {
  const { dir, files } = await writeTrail()
  const folder = join(dir, 'csv')
  const r = cli(['report', ...files, ...WINDOW, '--format', 'csv', '--out', folder])
  t.equal(r.code, 0, r.err)
  t.same(readdirSync(folder).sort(), [
    'adresses-refusees.csv',
    'chaine.csv',
    'ciba.csv',
    'heures.csv',
    'jours.csv',
    'praticiens-refuses.csv',
    'professions.csv',
    'routes.csv',
    'sessions-hors-heures.csv',
  ])
  const read = (name: string) => {
    const bytes = readFileSync(join(folder, name))
    t.same([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], `${name}: UTF-8 BOM`)
    return parseCsv(bytes.toString('utf8').slice(1))
  }
  const days = read('jours.csv')
  t.same(days[0], ['Jour', 'Connexions', 'Connexions refusées', 'Accès refusés'])
  t.same(
    days.slice(1).map((r) => r[0]),
    EXPECTED.days,
  )
  t.same(days[1], ['2026-11-02', '2', '1', '2'], 'Monday: 2 logins, 1 failed, 2 denials')
  t.same(read('praticiens-refuses.csv')[1], EXPECTED.topPractitioner.map(String))
  t.same(read('adresses-refusees.csv')[1], EXPECTED.topClient.map(String))
  t.same(
    Object.fromEntries(read('ciba.csv').slice(1)),
    { demandée: '2', approuvée: '1', expirée: '1' },
    'CIBA outcomes in French',
  )
  t.same(
    read('sessions-hors-heures.csv')
      .slice(1)
      .map((r) => r[0]),
    EXPECTED.offHoursSessions,
  )
  t.equal(read('heures.csv').length, 25, 'a header and 24 hours')
  t.match(read('chaine.csv')[1]![0], /^Chaîne vérifiée/)
})

t.test('an edited line: the report is still written, marked broken at the file and line; exit 1', async (t) => {
  const { dir, files } = await writeTrail()
  const gz = files[0]!
  const text = gunzipSync(readFileSync(gz)).toString('utf8')
  // The failed login becomes a success: the figure would change, the mac no longer matches.
  const lines = text.split('\n')
  const at = lines.findIndex((l) => l.includes('"outcome":"failed"'))
  lines[at] = lines[at]!.replace('"outcome":"failed"', '"outcome":"succeeded"')
  writeFileSync(gz, gzipSync(lines.join('\n')))
  const out = join(dir, 'rapport.html')
  const r = cli(['report', dir, ...WINDOW, '--out', out])
  t.equal(r.code, 1)
  t.match(r.err, new RegExp(`BROKEN: the chain breaks first at ${gz.replace(/[.]/g, '\\.')}:${at + 1} \\(edited\\)`))
  const html = readFileSync(out, 'utf8')
  t.match(html, /data-chain="broken"/)
  t.match(html, `CHAÎNE ROMPUE : première rupture à ${gz}:${at + 1} (edited)`)
  t.notMatch(html, /data-chain="verified"/)
})

t.test(
  'a trail with a gap record: intact, the gap said at the top of the page and in chaine.csv; exit 3',
  async (t) => {
    const { dir } = await writeTrail({ gap: true })
    const out = join(dir, 'rapport.html')
    const r = cli(['report', dir, ...WINDOW, '--out', out])
    t.equal(r.code, 3, r.err)
    const html = readFileSync(out, 'utf8')
    t.match(html, /data-chain="verified"/)
    t.match(html, /data-gaps="7"/)
    t.match(html, /Lacunes : 7 événement\(s\) perdu\(s\)/)
    t.ok(html.indexOf('data-gaps') < html.indexOf('<section'), 'above the figures')
    const folder = join(dir, 'csv')
    t.equal(cli(['report', dir, ...WINDOW, '--format', 'csv', '--out', folder]).code, 3)
    t.match(readFileSync(join(folder, 'chaine.csv'), 'utf8'), /Lacunes : 7 événement/)
  },
)

t.test('usage mistakes: exit 2 with what was expected', async (t) => {
  const { dir } = await writeTrail()
  const cases: [string[], RegExp][] = [
    [['report', dir], /--from and --to: expected days as YYYY-MM-DD/],
    [['report', dir, '--from', '2026-11-08', '--to', '2026-11-02'], /is after --to/],
    [['report', dir, ...WINDOW, '--format', 'csv'], /give the folder with --out DIR/],
    [['report', dir, ...WINDOW, '--format', 'pdf'], /expected html or csv/],
    [['report', dir, ...WINDOW, '--working-hours', '20-7'], /HH:MM-HH:MM/],
    [['report', dir, ...WINDOW, '--time-zone', 'Mars/Olympus'], /unknown time zone/],
    [['report', dir, ...WINDOW, '--lang', 'de'], /expected fr or en/],
  ]
  for (const [args, message] of cases) {
    const r = cli(args)
    t.equal(r.code, 2, args.join(' '))
    t.match(r.err, message)
  }
  const noKey = cli(['report', dir, ...WINDOW], { AUDIT_HMAC_KEY: '' })
  t.equal(noKey.code, 2)
  t.match(noKey.err, /the chain key is needed/)
})
