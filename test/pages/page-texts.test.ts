// Every text a person reads, rendered: one kind of apostrophe (the straight one, as most pages
// always had), no English word in a French page, and a way out of every refused request (400, 404)
// over real HTTP.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { ecpsListPage } from '../../dev/emulator/ecps-page.js'
import { autoLogoutPage, loggedOutPage, loginPage, messagePage } from '../../dev/emulator/pages.js'
import { loadPractitioners } from '../../dev/emulator/practitioners.js'
import { PSC_ERR } from '../../src/errors.js'
import {
  cibaProblemPage,
  loginChoicePage,
  waitingPage,
  type CibaProblem,
  type InputProblem,
} from '../../src/pages/ciba-pages.js'
import { renderPage } from '../../src/pages/html.js'
import type { Language } from '../../src/pages/language.js'
import { problemFor } from '../../src/pages/problems.js'
import { rawGet, rawRequest } from '../helpers/raw-http.js'
import { startStack } from '../helpers/stack.js'

const ROOT = join(import.meta.dirname, '..', '..')
const LANGS: Language[] = ['fr', 'en']
const CIBA_PROBLEMS: CibaProblem[] = [
  'denied',
  'expired',
  'unknown_id',
  'psc_unavailable',
  'failed',
  'cancelled',
  'lost',
  'limited',
  'cooldown',
  'pending',
  'forbidden',
]
const INPUT_PROBLEMS: InputProblem[] = ['empty', 'too_long', 'invalid_characters']
/** typographic apostrophes and single quotes: pages use the straight ' only */
const CURLY = /[\u2018\u2019\u02bc]/

async function allPages(): Promise<Array<{ name: string; lang: Language; html: string }>> {
  const pages: Array<{ name: string; lang: Language; html: string }> = []
  for (const lang of LANGS) {
    for (const code of Object.values(PSC_ERR).map((d) => d.code)) {
      const problem = problemFor(code, {
        lang,
        loginHref: '/_psc/login?rd=%2F',
        retryHref: '/x',
        logoutHref: '/_psc/logout',
        homeHref: '/',
        retryAfterSeconds: 30,
        limitBytes: 2048,
        sessionExpired: code === 'PSC_ERR_LOGIN_REQUIRED',
      })
      pages.push({ name: code, lang, html: renderPage({ ...problem, lang, requestId: 'req-1' }) })
    }
    for (const problem of INPUT_PROBLEMS)
      pages.push({
        name: `ciba login ${problem}`,
        lang,
        html: loginChoicePage(lang, {
          pscHref: '/_psc/login?via=psc',
          action: '/_psc/ciba',
          rd: '/',
          problem,
          sessionExpired: true,
        }),
      })
    pages.push({
      name: 'ciba waiting',
      lang,
      html: waitingPage(lang, {
        serviceName: 'DPI',
        bindingMessage: '42',
        refreshSeconds: 3,
        scriptSrc: '/w.js',
        statusUrl: '/s',
        cancelAction: '/c',
      }),
    })
    for (const problem of CIBA_PROBLEMS)
      pages.push({
        name: `ciba ${problem}`,
        lang,
        html: cibaProblemPage(lang, problem, { retryHref: '/', cardHref: '/c', retryAfterSeconds: 90, requestId: 'r' }),
      })
  }
  const practitioners = await loadPractitioners(join(ROOT, 'config', 'practitioners.yaml'))
  pages.push({
    name: 'emulator login',
    lang: 'fr',
    html: loginPage({ action: '/i', clientId: 'gateway', practitioners }),
  })
  pages.push({ name: 'emulator message', lang: 'fr', html: messagePage('Titre', 'Texte') })
  pages.push({ name: 'emulator logout', lang: 'fr', html: autoLogoutPage('<form></form>') })
  pages.push({ name: 'emulator logged out', lang: 'fr', html: loggedOutPage() })
  pages.push({
    name: 'e-CPS page',
    lang: 'fr',
    html: ecpsListPage(
      [
        {
          authReqId: 'a',
          idNat: '899700218896',
          practitioner: 'Jean Dupont',
          serviceName: 'DPI',
          clientId: 'c',
          bindingMessage: '42',
          channel: 'MOBILE',
          createdAt: Date.now(),
          expiresAt: Date.now() + 60_000,
        },
      ],
      practitioners,
      undefined,
    ),
  })
  return pages
}

t.test('one kind of apostrophe in every page, and no English word in a French one', async (t) => {
  for (const page of await allPages()) {
    t.notMatch(page.html, CURLY, `${page.name} (${page.lang}): straight apostrophes only`)
    if (page.lang === 'fr')
      t.notMatch(page.html.replace(/<style>[\s\S]*?<\/style>/, ''), /\bunknown\b/i, `${page.name}: no "unknown"`)
  }
})

t.test('the source of every text: no typographic apostrophe anywhere under src/ (new pages included)', async (t) => {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => {
      const p = join(dir, f)
      return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : []
    })
  for (const file of walk(join(ROOT, 'src'))) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (CURLY.test(line)) t.fail(`${file.slice(ROOT.length + 1)}:${i + 1}: ${line.trim()}`)
      })
  }
  t.pass('scanned')
})

t.test('the emulator names a profession outside TRE_G15 in French', async (t) => {
  const practitioners = await loadPractitioners(join(ROOT, 'config', 'practitioners.yaml'))
  const html = loginPage({ action: '/i', clientId: 'gateway', practitioners })
  t.match(html, 'profession hors TRE_G15 (93)')
  t.notMatch(html, 'unknown')
})

t.test('a refused address (404) or request (400) has a way back to the application', async (t) => {
  const stack = await startStack()
  t.teardown(() => stack.close())
  const home = '<a class="button" href="/">Page d&#39;accueil</a>'
  const notFound = await fetch(`${stack.url}/_psc/nothing-here`, { headers: { accept: 'text/html' } })
  t.equal(notFound.status, 404)
  t.match(await notFound.text(), home)
  const english = await fetch(`${stack.url}/_psc/nothing-here`, {
    headers: { accept: 'text/html', 'accept-language': 'en' },
  })
  t.match(await english.text(), '<a class="button" href="/">Home page</a>')
  const invalid = await rawGet(stack.url, '/a/%2e%2e%2f..%00', ['Accept: text/html'])
  t.equal(invalid.response?.status, 400)
  t.match(invalid.response?.body ?? '', home)
  const unreadable = await rawRequest(stack.url, 'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n')
  t.equal(unreadable.response?.status, 400, 'refused by the HTTP parser')
  t.match(unreadable.response?.body ?? '', home)
  const root = await fetch(`${stack.url}/`, { headers: { accept: 'text/html' }, redirect: 'manual' })
  t.not(root.status, 404, 'the home page itself is served (a login redirect), so the link leads somewhere')
})
