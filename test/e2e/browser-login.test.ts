// End to end in a real browser: headless Debian chromium (driven by playwright-core) logs a médecin
// in through the PSC emulator, sees the demo app with its identity headers, is refused the
// pharmacie, and logs out. Chromium is required: when it is missing this test FAILS (CI installs it).
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import t from 'tap'
import { launchChromium, SHOTS, STEP_TIMEOUT } from '../helpers/chromium.js'
import { EMULATOR_LOGIN_TITLE } from '../helpers/emulator-login.js'
import { startStack, type Stack } from '../helpers/stack.js'

const MEDECIN = '899700218896'

let stack: Stack | undefined
let browser: Browser | undefined

t.teardown(async () => {
  await browser?.close().catch(() => undefined)
  await stack?.close()
})

t.test(
  'a médecin logs in, is refused the pharmacie and logs out, in headless chromium',
  { timeout: 45_000 },
  async (t) => {
    const launched = await launchChromium()
    if (typeof launched === 'string') {
      t.fail(launched)
      return
    }
    browser = launched
    stack = await startStack()
    const base = stack.url
    if (stack.emulator === undefined) throw new Error('startStack() started no PSC emulator')
    const emulatorOrigin = stack.emulator.origin
    const context: BrowserContext = await browser.newContext({ locale: 'fr-FR' })
    context.setDefaultTimeout(STEP_TIMEOUT)
    context.setDefaultNavigationTimeout(STEP_TIMEOUT)
    const page: Page = await context.newPage()

    // 1. An anonymous visit lands on the emulator's practitioner list.
    await page.goto(`${base}/dossier/7`)
    await page.waitForURL((u) => u.origin === emulatorOrigin)
    t.equal(await page.title(), EMULATOR_LOGIN_TITLE, 'on the emulator login page')

    // 2. Pick the médecin: back on the demo app, on the page first asked for.
    await Promise.all([
      page.waitForURL((u) => u.origin === base && u.pathname === '/dossier/7'),
      page.click(`button[value="${MEDECIN}"]`),
    ])
    t.equal(new URL(page.url()).pathname, '/dossier/7')
    const who = await page.locator('#who').innerText()
    t.match(who, /Élodie/, 'given name shown decoded')
    t.match(who, /Lefèvre-Dubois/, 'family name shown decoded')
    const idNatRow = page.locator('#identity tr', { has: page.locator('th', { hasText: /^x-psc-idnat$/ }) })
    t.equal(await idNatRow.count(), 1, 'one x-psc-idnat row')
    t.equal((await idNatRow.locator('td').first().innerText()).trim(), MEDECIN, 'x-psc-idnat reached the upstream')
    const familyRow = page.locator('#identity tr', { has: page.locator('th', { hasText: /^x-psc-family-name$/ }) })
    t.equal((await familyRow.locator('td').first().innerText()).trim(), 'Lefèvre-Dubois')
    t.equal((await familyRow.locator('td').nth(1).innerText()).trim(), 'Lef%C3%A8vre-Dubois', 'sent percent-encoded')
    await page.screenshot({ path: join(SHOTS, 'after-login.png'), fullPage: true })

    const session = (await context.cookies(base)).find((c) => c.name === 'psc_session')
    t.ok(session, 'session cookie set')
    t.equal(session?.httpOnly, true, 'session cookie is HttpOnly')
    t.equal(session?.sameSite, 'Lax')
    t.equal(await page.evaluate('document.cookie.includes("psc_session")'), false, 'invisible to page scripts')

    // 3. The pharmacie is for pharmaciens only: a French 403 page.
    const denied = await page.goto(`${base}/pharmacie/`)
    t.equal(denied?.status(), 403)
    const deniedText = await page.locator('body').innerText()
    t.match(deniedText, /Accès refusé/)
    t.match(deniedText, /Élodie Lefèvre-Dubois/, 'says who is logged in')
    await page.screenshot({ path: join(SHOTS, 'forbidden-403.png'), fullPage: true })

    // 4. Logout from the demo page's link: local session and PSC session ended.
    await page.goto(`${base}/dossier/7`)
    t.equal(new URL(page.url()).pathname, '/dossier/7', 'still logged in after the 403')
    await Promise.all([
      page.waitForURL((u) => u.origin === base && u.pathname === '/_psc/logged-out'),
      page.click('#logout'),
    ])
    await page.waitForLoadState('load')
    t.match(await page.locator('body').innerText(), /Vous êtes déconnecté/)
    t.notOk(
      (await context.cookies(base)).some((c) => c.name === 'psc_session' && c.value !== ''),
      'session cookie gone',
    )
    await page.screenshot({ path: join(SHOTS, 'logged-out.png'), fullPage: true })

    // And the gateway forgot us: the next visit goes back to PSC.
    await page.goto(`${base}/dossier/7`)
    await page.waitForURL((u) => u.origin === emulatorOrigin)
    t.equal(await page.title(), EMULATOR_LOGIN_TITLE, 'logged out: login asked again')
    await context.close()
  },
)
