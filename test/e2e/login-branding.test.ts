// End to end in headless chromium: the login page says where the practitioner is. A protected page
// leads to the gateway's login page, which shows the service, the establishment and its logo (served
// by the gateway) and the Pro Santé Connect button, which leads on to PSC and back to the page.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import t from 'tap'
import { launchChromium, SHOTS, STEP_TIMEOUT } from '../helpers/chromium.js'
import { startStack, type Stack } from '../helpers/stack.js'

const MEDECIN = '899700218896'
const dir = mkdtempSync(join(tmpdir(), 'psc-branding-'))
// a 2x1 PNG: its natural size proves the browser decoded what the gateway served
const LOGO = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAYAAAD0In+KAAAAEUlEQVR42mNk+M9QzwAEjDAGACCDAv8cI7IoAAAAAElFTkSuQmCC',
  'base64',
)
writeFileSync(join(dir, 'logo.png'), LOGO)
writeFileSync(
  join(dir, 'bouton-psc.svg'),
  '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="48"><rect width="240" height="48" fill="#000091"/></svg>',
)

const stacks: Stack[] = []
let browser: Browser | undefined
t.teardown(async () => {
  await browser?.close().catch(() => undefined)
  for (const s of stacks) await s.close()
})

t.test(
  'the login page shows the service, the establishment, the logo and the PSC button',
  { timeout: 60_000 },
  async (t) => {
    const launched = await launchChromium()
    if (typeof launched === 'string') {
      t.fail(launched)
      return
    }
    browser = launched
    const stack = await startStack({
      extraYaml: `branding:
  service: "Dossier patient <informatisé>"
  establishment: CHU de Nantes
  logo: ${JSON.stringify(join(dir, 'logo.png'))}
`,
    })
    stacks.push(stack)
    const context = await browser.newContext({ locale: 'fr-FR' })
    context.setDefaultTimeout(STEP_TIMEOUT)
    const page = await context.newPage()

    await page.goto(`${stack.url}/dossier/7`)
    t.equal(new URL(page.url()).pathname, '/_psc/login', 'the gateway login page, not PSC at once')
    t.equal(
      await page.locator('#branding-service').innerText(),
      'Dossier patient <informatisé>',
      'the service, as text',
    )
    t.equal(await page.locator('#branding-establishment').innerText(), 'CHU de Nantes')
    t.equal(
      await page.locator('#branding-logo').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
      2,
      'the logo is shown',
    )
    const button = page.locator('#psc-button')
    t.equal((await button.innerText()).trim(), 'Se connecter avec Pro Santé Connect')
    await page.screenshot({ path: join(SHOTS, 'login-branded.png'), fullPage: true })

    await Promise.all([page.waitForURL((u) => u.origin === stack.emulator!.origin), button.click()])
    await Promise.all([
      page.waitForURL((u) => u.origin === stack.url && u.pathname === '/dossier/7'),
      page.click(`button[value="${MEDECIN}"]`),
    ])
    t.match(await page.locator('#who').innerText(), /Élodie/, 'logged in, on the page first asked for')
    await context.close()
  },
)

t.test("with ANS's button image configured, the button is that image", { timeout: 60_000 }, async (t) => {
  if (browser === undefined) {
    t.fail('no browser')
    return
  }
  const stack = await startStack({
    extraYaml: `branding:
  establishment: CHU de Nantes
  pscButton: ${JSON.stringify(join(dir, 'bouton-psc.svg'))}
`,
  })
  stacks.push(stack)
  const context = await browser.newContext({ locale: 'en-GB' })
  context.setDefaultTimeout(STEP_TIMEOUT)
  const page = await context.newPage()
  await page.goto(`${stack.url}/dossier/7`)
  t.equal(await page.locator('h1').innerText(), 'Log in', 'English by Accept-Language')
  const image = page.locator('#psc-button img')
  t.equal(await image.getAttribute('alt'), 'Se connecter avec Pro Santé Connect')
  t.equal(
    await image.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
    240,
    "ANS's image is shown",
  )
  t.equal(await page.locator('#branding-logo').count(), 0, 'no logo configured, none shown')
  await context.close()
})
