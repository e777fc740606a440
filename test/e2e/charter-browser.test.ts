// End to end in headless chromium: the IT charter. A médecin logs in, is shown the charter before
// the application, accepts it and lands on the page asked for; a gateway with a new version asks
// again; a replica on the same Redis knows the acceptance; an exempt path is never held back; a
// script's request gets a JSON 403, not the page; a hostile charter file stays text.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import t from 'tap'
import { launchChromium, SHOTS, STEP_TIMEOUT } from '../helpers/chromium.js'
import { startRedis, type RedisServer } from '../helpers/redis.js'
import { startStack, type Stack } from '../helpers/stack.js'

const MEDECIN = '899700218896'
const dir = mkdtempSync(join(tmpdir(), 'psc-charter-'))
const charterFile = join(dir, 'charte.txt')
writeFileSync(
  charterFile,
  '# Article 1 : objet\n\nLa présente charte <script>window.pwned = 1</script> définit les règles.\n\n- Ne partagez pas votre carte CPS.\n- Verrouillez votre poste <img src=x onerror="window.pwned = 2">\n',
)
const charterYaml = (version: string) => `
charter:
  version: "${version}"
  file: ${JSON.stringify(charterFile)}
  exempt: [/exempt]
`

let redis: RedisServer | undefined
const stacks: Stack[] = []
let browser: Browser | undefined

t.teardown(async () => {
  await browser?.close().catch(() => undefined)
  for (const s of stacks.reverse()) await s.close()
  await redis?.close()
})

async function newPage(b: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await b.newContext({ locale: 'fr-FR' })
  context.setDefaultTimeout(STEP_TIMEOUT)
  context.setDefaultNavigationTimeout(STEP_TIMEOUT)
  return { context, page: await context.newPage() }
}

t.test(
  'login → charter → accept → the application; a new version is asked again; exempt paths and scripts',
  { timeout: 90_000 },
  async (t) => {
    const launched = await launchChromium()
    if (typeof launched === 'string') {
      t.fail(launched)
      return
    }
    browser = launched
    redis = await startRedis()
    const first = await startStack({ redisUrl: redis.url, extraYaml: charterYaml('2026-01') })
    stacks.push(first)
    const emulatorOrigin = first.emulator!.origin
    const { context, page } = await newPage(browser)

    // 1. The login ends on the charter, not on the page asked for.
    await page.goto(`${first.url}/dossier/7`)
    await page.waitForURL((u) => u.origin === emulatorOrigin)
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/_psc/charter'),
      page.click(`button[value="${MEDECIN}"]`),
    ])
    t.equal(new URL(page.url()).searchParams.get('rd'), '/dossier/7', 'the charter page knows where to go next')
    t.match(await page.locator('h1').innerText(), /Charte d'utilisation du système d'information/)
    t.match(await page.locator('#charter-version').innerText(), /2026-01/)
    const text = await page.locator('#charter-text').innerText()
    t.match(text, /<script>window\.pwned = 1<\/script>/, 'the hostile markup is shown as text')
    t.equal(await page.locator('#charter-text h2').innerText(), 'Article 1 : objet')
    t.equal(await page.locator('#charter-text li').count(), 2)
    t.equal(await page.evaluate('window.pwned'), undefined, 'no script of the charter file ran')
    await page.screenshot({ path: join(SHOTS, 'charter.png'), fullPage: true })

    // 2. A script's request meanwhile: a JSON 403, never the page or a redirect.
    const api = await context.request.get(`${first.url}/dossier/7`, {
      headers: { accept: 'application/json' },
      maxRedirects: 0,
    })
    t.equal(api.status(), 403)
    const body = (await api.json()) as { error: string; charter: string }
    t.equal(body.error, 'PSC_ERR_CHARTER_REQUIRED')
    t.equal(body.charter, '/_psc/charter?rd=%2Fdossier%2F7')
    const forwarded = () =>
      first.audit.filter((e) => e.event === 'access' && e.path === '/dossier/7' && e.decision === 'allow').length
    t.equal(forwarded(), 0, 'nothing forwarded before acceptance')
    t.match(
      first.audit.filter((e) => e.event === 'access' && e.path === '/dossier/7').at(-1),
      { decision: 'login', reason: 'PSC_ERR_CHARTER_REQUIRED', idNat: MEDECIN },
      'the refusal is in the audit trail',
    )

    // 2b. Before accepting: an exempt path and a public route are reached; any other page is not.
    const side = await context.newPage()
    await side.goto(`${first.url}/exempt/notice`)
    t.equal(new URL(side.url()).pathname, '/exempt/notice', 'the exempt path is not held back')
    t.match(await side.locator('#who').innerText(), /Élodie/, 'and is forwarded with the identity')
    await side.goto(`${first.url}/public/info`)
    t.equal(new URL(side.url()).pathname, '/public/info', 'a public route never asks it')
    await side.goto(`${first.url}/exemption/not`)
    t.equal(new URL(side.url()).pathname, '/_psc/charter', 'a path that only starts like the exempt one is asked')
    await side.close()

    // 3. Accept: on to the page first asked for; the acceptance is audited and kept in Redis.
    await Promise.all([
      page.waitForURL((u) => u.origin === first.url && u.pathname === '/dossier/7'),
      page.click('#charter-accept'),
    ])
    t.match(await page.locator('#who').innerText(), /Élodie/)
    const accepted = first.audit.filter((e) => e.event === 'charter')
    t.equal(accepted.length, 1, 'one charter event')
    t.match(accepted[0], { outcome: 'accepted', idNat: MEDECIN, charterVersion: '2026-01' })
    t.match((accepted[0] as { time: string }).time, /^\d{4}-\d{2}-\d{2}T/)
    const client = new Redis(redis.url)
    t.teardown(() => void client.disconnect())
    const stored = await client.get(`test:shared:charter:2026-01:${MEDECIN}`)
    t.ok(stored, 'the acceptance is in Redis, by version and idNat')
    t.ok((await client.pttl(`test:shared:charter:2026-01:${MEDECIN}`)) > 300 * 86_400_000, 'kept for a year')

    // 4. Not asked again for the same version.
    await page.goto(`${first.url}/dossier/8`)
    t.equal(new URL(page.url()).pathname, '/dossier/8', 'no charter the second time')

    // 5. A gateway with a new version (same Redis, same session) asks again, then lets through.
    const second = await startStack({
      redisUrl: redis.url,
      emulator: first.emulator,
      extraYaml: charterYaml('2026-02'),
    })
    stacks.push(second)
    await page.goto(`${second.url}/dossier/7`)
    t.equal(new URL(page.url()).pathname, '/_psc/charter', 'the new version is asked')
    t.match(await page.locator('#charter-version').innerText(), /2026-02/)
    await Promise.all([
      page.waitForURL((u) => u.origin === second.url && u.pathname === '/dossier/7'),
      page.click('#charter-accept'),
    ])
    t.match(
      second.audit.find((e) => e.event === 'charter'),
      { idNat: MEDECIN, charterVersion: '2026-02' },
    )

    // 6. A replica with that version, on the same Redis, knows it was accepted.
    const replica = await startStack({
      redisUrl: redis.url,
      emulator: first.emulator,
      extraYaml: charterYaml('2026-02'),
    })
    stacks.push(replica)
    await page.goto(`${replica.url}/dossier/9`)
    t.equal(new URL(page.url()).pathname, '/dossier/9', 'the replica does not ask again')
    await context.close()
  },
)
