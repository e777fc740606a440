// End to end in a real browser: on a workstation without a card reader, a médecin asks for an e-CPS
// notification, approves it on the "phone" (the emulator's e-CPS page, in another browser context),
// and lands on the page first asked for with the same identity headers as after a card login. Two
// other practitioners then log in at once on two workstations. Chromium is required: this test never skips.
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import t, { type Test } from 'tap'
import { CIBA_YAML } from '../helpers/ciba.js'
import { launchChromium, SHOTS } from '../helpers/chromium.js'
import { SERVICE_NAME, startStack, type Stack } from '../helpers/stack.js'

const MEDECIN = '899700218896'
const PHARMACIEN = '899700367915'
const ETUDIANT = '899700555555'
const STEP_TIMEOUT = 15_000

let stack: Stack | undefined
let browser: Browser | undefined

t.teardown(async () => {
  await browser?.close().catch(() => undefined)
  await stack?.close()
})

async function newContext(): Promise<BrowserContext> {
  const context = await browser!.newContext({ locale: 'fr-FR' })
  context.setDefaultTimeout(STEP_TIMEOUT)
  context.setDefaultNavigationTimeout(STEP_TIMEOUT)
  return context
}

/** The x-psc-* headers the demo app shows, as it received them. */
async function identityShown(page: Page): Promise<Record<string, string>> {
  const rows = await page
    .locator('#identity tr')
    .evaluateAll((trs) =>
      trs.map((tr) => [
        tr.querySelector('th')?.textContent?.trim() ?? '',
        tr.querySelector('td')?.textContent?.trim() ?? '',
      ]),
    )
  return Object.fromEntries(rows.filter(([k]) => k!.startsWith('x-psc-')))
}

/** Workstation: open a page, choose the e-CPS notification, type the id; returns the code shown. */
async function askForPush(page: Page, base: string, path: string, typed: string): Promise<string> {
  await page.goto(`${base}${path}`)
  await page.waitForURL((u) => u.pathname === '/_psc/login')
  await page.fill('#loginHint', typed)
  await Promise.all([page.waitForURL((u) => u.pathname === '/_psc/ciba'), page.click('#send')])
  return (await page.locator('#binding-message').innerText()).trim()
}

/** Phone: the e-CPS page of the emulator, the practitioner's pending notification, Accepter. */
async function approveOnPhone(
  phone: Page,
  emulatorOrigin: string,
  idNat: string,
  expectedCode: string,
  t: Test,
): Promise<void> {
  await phone.goto(`${emulatorOrigin}/ecps?idNat=${idNat}`)
  const card = phone.locator('.notification')
  await card.first().waitFor()
  t.equal(await card.count(), 1, `one notification for ${idNat}`)
  t.equal(
    (await card.locator('.code').innerText()).trim(),
    expectedCode,
    'the phone shows the code shown on the workstation',
  )
  t.equal((await card.locator('.service').innerText()).trim(), SERVICE_NAME, 'the notification names the service')
  await Promise.all([phone.waitForSelector('#answered'), card.locator('button.accept').click()])
}

t.test(
  "CIBA in chromium: push, approve on the phone, land with the card login's identity; two workstations at once",
  { timeout: 90_000 },
  async (t) => {
    const launched = await launchChromium()
    if (typeof launched === 'string') {
      t.fail(launched)
      return
    }
    browser = launched
    stack = await startStack({ pscYaml: CIBA_YAML(), emulatorCiba: { intervalSeconds: 1 } })
    const base = stack.url
    const emulatorOrigin = stack.emulator!.origin

    // 1. Workstation: the login page offers both; the médecin types the RPPS as printed on the card.
    const workstation = await newContext()
    const page = await workstation.newPage()
    await page.goto(`${base}/dossier/7?onglet=bio`)
    await page.waitForURL((u) => u.pathname === '/_psc/login')
    t.match(await page.locator('body').innerText(), /Recevoir une notification sur mon application e-CPS/)
    t.equal(await page.locator('a.button', { hasText: 'Pro Santé Connect' }).count(), 1, 'the PSC button is there too')
    await page.screenshot({ path: join(SHOTS, 'ciba-login-choice.png'), fullPage: true })
    const code = await askForPush(page, base, '/dossier/7?onglet=bio', '997 002 188 96')
    t.match(code, /^\d{2}$/)
    t.match(await page.locator('h1').innerText(), /Validez la demande sur votre application e-CPS/)
    t.match(await page.locator('body').innerText(), new RegExp(SERVICE_NAME))
    await page.screenshot({ path: join(SHOTS, 'ciba-waiting.png'), fullPage: true })

    // The page waits without reloading: its script asks the status endpoint.
    let navigations = 0
    const count = (f: { parentFrame(): unknown }) => {
      if (f.parentFrame() === null) navigations++
    }
    page.on('framenavigated', count)
    await page.waitForTimeout(4_000)
    t.equal(navigations, 0, 'no reload while waiting (with JavaScript)')
    page.off('framenavigated', count)

    // 2. Phone: the practitioner accepts; the workstation carries on by itself to the page asked for.
    const phoneContext = await newContext()
    const phone = await phoneContext.newPage()
    await Promise.all([
      page.waitForURL((u) => u.origin === base && u.pathname === '/dossier/7' && u.search === '?onglet=bio'),
      approveOnPhone(phone, emulatorOrigin, MEDECIN, code, t),
    ])
    const viaCiba = await identityShown(page)
    t.equal(viaCiba['x-psc-idnat'], MEDECIN)
    await page.screenshot({ path: join(SHOTS, 'ciba-landed.png'), fullPage: true })
    const session = (await workstation.cookies(base)).find((c) => c.name === 'psc_session')
    t.ok(session?.httpOnly, 'HttpOnly session cookie')
    t.notOk(
      (await workstation.cookies(base)).some((c) => c.name === 'psc_ciba' && c.value !== ''),
      'CIBA cookie gone',
    )

    // The same practitioner with the card (redirect login) on another workstation: same headers.
    const cardContext = await newContext()
    const cardPage = await cardContext.newPage()
    await cardPage.goto(`${base}/_psc/login?rd=%2Fdossier%2F7&via=psc`)
    await cardPage.waitForURL((u) => u.origin === emulatorOrigin)
    await Promise.all([
      cardPage.waitForURL((u) => u.origin === base && u.pathname === '/dossier/7'),
      cardPage.click(`button[value="${MEDECIN}"]`),
    ])
    const viaCard = await identityShown(cardPage)
    const withoutMeans = (h: Record<string, string>) =>
      Object.fromEntries(Object.entries(h).filter(([k]) => k !== 'x-psc-auth-mode'))
    t.same(withoutMeans(viaCiba), withoutMeans(viaCard), 'same identity headers as after a card login')
    t.equal(viaCiba['x-psc-auth-mode'], 'MOBILE', 'approved on the phone: the means used')
    t.equal(viaCard['x-psc-auth-mode'], 'CARD')

    // 3. Two practitioners at once on two workstations.
    const [w1, w2] = [await newContext(), await newContext()]
    const [p1, p2] = [await w1.newPage(), await w2.newPage()]
    const [code1, code2] = await Promise.all([
      askForPush(p1, base, '/dossier/1', '99700367915'),
      askForPush(p2, base, '/dossier/2', '8 99700555555'),
    ])
    await Promise.all([
      p1.waitForURL((u) => u.origin === base && u.pathname === '/dossier/1'),
      p2.waitForURL((u) => u.origin === base && u.pathname === '/dossier/2'),
      (async () => {
        await approveOnPhone(phone, emulatorOrigin, ETUDIANT, code2, t)
        await approveOnPhone(phone, emulatorOrigin, PHARMACIEN, code1, t)
      })(),
    ])
    t.equal((await identityShown(p1))['x-psc-idnat'], PHARMACIEN, 'workstation 1: the pharmacien')
    t.equal((await identityShown(p2))['x-psc-idnat'], ETUDIANT, 'workstation 2: the étudiant')
    for (const c of [workstation, phoneContext, cardContext, w1, w2]) await c.close()
  },
)
