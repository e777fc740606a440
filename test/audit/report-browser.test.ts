// The report's HTML page opened in Chromium, as the security team would: every request but the page
// itself is intercepted and counted (there must be none), no script error, and the charts are there
// as SVG with one bar per row and series, their labels, and an accessible title.
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { launchChromium, SHOTS, STEP_TIMEOUT } from '../helpers/chromium.js'
import { cli, EXPECTED, writeTrail } from './report-trail.js'

t.test('the report in Chromium: SVG charts with their bars and labels, nothing fetched, no error', async (t) => {
  const { dir } = await writeTrail()
  const out = join(dir, 'rapport.html')
  const r = cli(['report', dir, '--from', '2026-11-02', '--to', '2026-11-08', '--out', out])
  t.equal(r.code, 0, r.err)
  const launched = await launchChromium()
  if (typeof launched === 'string') {
    t.fail(launched)
    return
  }
  const browser = launched
  t.teardown(() => browser.close())
  const context = await browser.newContext({ locale: 'fr-FR', javaScriptEnabled: false })
  const page = await context.newPage()
  page.setDefaultTimeout(STEP_TIMEOUT)
  const pageUrl = pathToFileURL(out).href
  const fetched: string[] = []
  await context.route('**/*', (route) => {
    const url = route.request().url()
    if (url === pageUrl) return route.continue()
    fetched.push(url)
    return route.abort()
  })
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text())
  })
  page.on('requestfailed', (req) => {
    if (req.url() !== pageUrl) fetched.push(req.url())
  })
  await page.goto(pageUrl)
  await page.screenshot({ path: join(SHOTS, 'audit-report.png'), fullPage: true })

  t.equal(await page.locator('#chaine[data-chain="verified"]').count(), 1, 'the verdict heads the page')
  const charts = await page.locator('svg.chart').evaluateAll((svgs) =>
    svgs.map((svg) => ({
      id: svg.getAttribute('data-chart'),
      title: svg.querySelector('title')?.textContent,
      labelledBy: svg.getAttribute('aria-labelledby'),
      role: svg.getAttribute('role'),
      bars: svg.querySelectorAll('rect.bar').length,
      labels: [...svg.querySelectorAll('text.label')].map((x) => x.textContent),
      barTitles: [...svg.querySelectorAll('rect.bar > title')].map((x) => x.textContent),
      visible: svg.getBoundingClientRect().width > 0,
    })),
  )
  const byId = Object.fromEntries(charts.map((c) => [c.id, c]))
  t.same(Object.keys(byId).sort(), ['ciba', 'heures', 'jours', 'professions', 'routes'])
  t.equal(byId.jours!.bars, EXPECTED.days.length * 3, 'days: three bars a day')
  t.same(byId.jours!.labels, EXPECTED.days)
  t.equal(byId.heures!.bars, 24 * 3, 'hours: three bars for each of 24 hours')
  t.equal(byId.heures!.labels[0], '00h')
  t.same(byId.routes!.labels, EXPECTED.routes)
  t.equal(byId.routes!.bars, EXPECTED.routes.length * 2)
  t.same([...byId.professions!.labels].sort(), [...EXPECTED.professions].sort())
  t.same(byId.ciba!.labels, ['demandée', 'approuvée', 'expirée'])
  t.equal(byId.ciba!.bars, 3)
  for (const c of charts) {
    t.equal(c.role, 'img', `${c.id}: an image to assistive technology`)
    t.match(c.title, /^Graphique : /, `${c.id}: titled`)
    t.ok(c.visible, `${c.id}: drawn`)
  }
  t.ok(byId.jours!.barTitles.includes('2026-11-02 — Accès refusés : 2'), "each bar's value as text in its title")
  t.same(fetched, [], 'no request made but the page itself')
  t.same(errors, [], 'no error')

  // The interception is real: the same page with one external stylesheet is caught asking for it.
  const control = join(dir, 'controle.html')
  writeFileSync(
    control,
    readFileSync(out, 'utf8').replace('</head>', '<link rel="stylesheet" href="https://cdn.example/x.css"></head>'),
  )
  const controlUrl = pathToFileURL(control).href
  await context.unroute('**/*')
  await context.route('**/*', (route) => {
    const url = route.request().url()
    if (url === controlUrl) return route.continue()
    fetched.push(url)
    return route.abort()
  })
  await page.goto(controlUrl)
  t.ok(fetched.includes('https://cdn.example/x.css'), 'an external asset would have been seen')
})
