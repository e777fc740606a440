// Login by a push to the e-CPS app (CIBA), over real HTTP: gateway ⇄ PSC emulator (oidc-provider's
// CIBA, poll mode) ⇄ demo upstream; the practitioner answers on the emulator's e-CPS page.
import t from 'tap'
import type { AuditEvent } from '../../src/audit/events.js'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { answerOnPhone, bindingMessageOf, CIBA_YAML, startCiba, waitForEnd } from '../helpers/ciba.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { SERVICE_NAME, startStack, type Stack } from '../helpers/stack.js'

const MEDECIN = '899700218896'
const PHARMACIEN = '899700367915'
const INFIRMIER_ADELI = '0012345678'
const TWO_EXERCICES = '899700412345'
const ETUDIANT = '899700555555'

const YAML = CIBA_YAML(`    routes: { pharmacie: redirect, medecins-civils: ciba }
    limits:
      perClient: { max: 50, window: 10m }
`)

let stack: Stack
t.before(async () => {
  stack = await startStack({ pscYaml: YAML, emulatorCiba: { intervalSeconds: 1 } })
})
t.teardown(() => stack.close())

const cibaEvents = (s: Stack, idNat: string) =>
  s.audit.filter((e): e is Extract<AuditEvent, { event: 'ciba' }> => e.event === 'ciba' && e.idNat === idNat)

async function identityHeaders(client: BrowserLikeClient, s: Stack): Promise<Record<string, string>> {
  const res = await client.get(`${s.url}/dossier/1?format=json`)
  if (res.status !== 200) throw new Error(`echo: ${res.status}`)
  const { headers } = JSON.parse(res.body) as { headers: Record<string, string> }
  return headers
}

t.test('the login page offers the e-CPS notification beside the PSC button (mode both), per route', async (t) => {
  const client = new BrowserLikeClient()
  const page = await client.follow(`${stack.url}/dossier/42`)
  t.equal(page.status, 200)
  t.equal(new URL(page.url).pathname, '/_psc/login')
  t.match(page.body, /Recevoir une notification sur mon application e-CPS/)
  t.match(page.body, /Se connecter avec Pro Santé Connect/)
  t.equal(page.headers['content-security-policy']?.includes("script-src 'self'"), true)
  const psc = /href="([^"]*via=psc[^"]*)"/.exec(page.body)?.[1]?.replaceAll('&amp;', '&')
  t.ok(psc, 'a link to the PSC login')
  const toPsc = await client.get(new URL(psc!, stack.url).href)
  t.equal(toPsc.status, 302, 'via=psc: the usual redirect to PSC')
  t.match(toPsc.headers.location ?? '', /\/protocol\/openid-connect\/auth\?/)

  const pharmacie = await new BrowserLikeClient().get(`${stack.url}/_psc/login?rd=%2Fpharmacie%2F`)
  t.equal(pharmacie.status, 302, 'route "pharmacie" is redirect-only: straight to PSC')
  t.match(pharmacie.headers.location ?? '', /\/protocol\/openid-connect\/auth\?/)

  const medecins = await new BrowserLikeClient().follow(`${stack.url}/medecins/`)
  t.equal(medecins.status, 200)
  t.match(medecins.body, /Recevoir une notification/)
  t.notMatch(
    medecins.body,
    /Se connecter avec Pro Santé Connect/,
    'route "medecins-civils" is CIBA-only: no PSC button',
  )
  const forced = await new BrowserLikeClient().get(`${stack.url}/_psc/login?rd=%2Fmedecins%2F&via=psc`)
  t.equal(forced.status, 200, 'via=psc cannot bypass a CIBA-only route')
  t.match(forced.body, /Recevoir une notification/)

  const english = await new BrowserLikeClient().get(`${stack.url}/_psc/login?rd=%2F`, {
    headers: { 'Accept-Language': 'en-GB,en;q=0.9,fr;q=0.5' },
  })
  t.match(english.body, /Get a notification on my e-CPS app/)
  t.match(english.body, /<html lang="en">/)
})

t.test(
  'a médecin types an RPPS, approves on the phone, and lands with the same identity headers as after a card login',
  async (t) => {
    const { res, browser } = await startCiba(stack, '997 002 188 96')
    t.equal(res.status, 303)
    t.equal(res.headers.location, '/_psc/ciba')
    const waiting = await browser.get(`${stack.url}/_psc/ciba`)
    t.equal(waiting.status, 200)
    t.match(waiting.body, /Validez la demande sur votre application e-CPS/)
    t.match(waiting.body, new RegExp(SERVICE_NAME))
    t.match(waiting.body, /<noscript><meta http-equiv="refresh" content="3"><\/noscript>/, 'works without JavaScript')
    const shown = bindingMessageOf(waiting)
    t.match(shown, /^\d{2}$/, 'a two-digit binding message')

    const pending = stack.emulator!.ciba.pending(MEDECIN)
    t.equal(pending.length, 1, 'PSC was asked with login_hint = 8 + RPPS')
    t.equal(pending[0]?.bindingMessage, shown, 'the phone shows the same code')
    t.equal(pending[0]?.channel, 'MOBILE')
    const status = await browser.get(`${stack.url}/_psc/ciba/status`)
    t.same(JSON.parse(status.body), { state: 'pending' })

    const phone = await answerOnPhone(stack, MEDECIN, true)
    t.equal(phone.service, SERVICE_NAME, 'the notification names the service')
    const landed = await waitForEnd(stack, browser)
    t.equal(landed.status, 303)
    t.equal(landed.headers.location, '/dossier/42?onglet=bio', 'back to the page first asked for')
    t.ok(
      browser.cookies(stack.url).find((c) => c.name === 'psc_session'),
      'session cookie set',
    )
    t.notOk(
      browser.cookies(stack.url).find((c) => c.name === 'psc_ciba'),
      'the CIBA cookie is gone',
    )
    const viaCiba = await identityHeaders(browser, stack)

    const card = new BrowserLikeClient()
    await loginThroughEmulator(card, `${stack.url}/pharmacie/`, MEDECIN)
    const viaCard = await identityHeaders(card, stack)
    const identity = (h: Record<string, string>) =>
      Object.fromEntries(Object.entries(h).filter(([k]) => k.startsWith('x-psc-') && k !== 'x-psc-auth-mode'))
    t.same(identity(viaCiba), identity(viaCard), 'same identity headers as after a card login')
    t.equal(
      viaCiba['x-psc-auth-mode'],
      'MOBILE',
      "approved on the phone: the means actually used, not the practitioner's usual card",
    )
    t.equal(viaCard['x-psc-auth-mode'], 'CARD')
    t.equal(viaCiba['x-psc-idnat'], MEDECIN)
    t.equal(viaCiba['x-psc-rpps'], '99700218896')
    t.notMatch(viaCiba.cookie ?? '', /psc_/, 'no gateway cookie reaches the upstream')

    const events = cibaEvents(stack, MEDECIN)
    t.same(
      events.map((e) => e.outcome),
      ['requested', 'approved'],
    )
    t.equal(events[0]?.client, '127.0.0.1', 'who asked, from where')
    t.equal(events[0]?.cibaRequest, events[1]?.cibaRequest, 'the outcome names its request')
    const login = stack.audit.find(
      (e) => e.event === 'login' && e.outcome === 'succeeded' && e.loginMethod === 'ciba' && e.idNat === MEDECIN,
    )
    t.ok(login, 'login succeeded, method ciba')
    t.equal(login?.event === 'login' && login.acr, 'eidas1')
    t.equal(login?.event === 'login' && login.authMode, 'MOBILE', 'the audit line names the means used')
    t.ok(
      stack.audit.find(
        (e) =>
          e.event === 'session' &&
          e.outcome === 'created' &&
          e.idNat === MEDECIN &&
          e.session === (login as { session?: string }).session,
      ),
    )
    t.notMatch(JSON.stringify(stack.audit), /psc_ciba=|auth_req_id/, 'no cookie or PSC request id in the audit trail')
  },
)

t.test(
  'denied on the phone: a French page offering retry or the card; then a cool-down for that practitioner',
  async (t) => {
    const { res, browser } = await startCiba(stack, PHARMACIEN)
    t.equal(res.status, 303)
    await answerOnPhone(stack, PHARMACIEN, false)
    const page = await waitForEnd(stack, browser)
    t.equal(page.status, 403)
    t.match(page.body, /Demande refusée/)
    t.match(page.body, /Réessayer/)
    t.match(page.body, /Utiliser ma carte CPS/)
    t.notMatch(page.body, /access_denied/, 'no technical detail on the page')
    t.same(
      cibaEvents(stack, PHARMACIEN).map((e) => e.outcome),
      ['requested', 'denied'],
    )

    const again = await startCiba(stack, PHARMACIEN)
    t.equal(again.res.status, 429, 'no new push right after a refusal')
    t.match(again.res.body, /Demande récemment refusée/)
    t.ok(Number(again.res.headers['retry-after']) > 0)
    t.equal(stack.emulator!.ciba.pending(PHARMACIEN).length, 0, 'nothing was sent to the phone')
    t.same(
      cibaEvents(stack, PHARMACIEN)
        .map((e) => [e.outcome, e.reason])
        .at(-1),
      ['refused', 'limit cooldown'],
    )
  },
)

t.test('an unknown id: a French page, audited', async (t) => {
  const { res } = await startCiba(stack, '10000000000')
  t.equal(res.status, 400)
  t.match(res.body, /Identifiant non reconnu/)
  t.same(
    cibaEvents(stack, '810000000000').map((e) => e.outcome),
    ['unknown_id'],
  )
})

t.test('an identifier of no known shape is refused before anything is sent to PSC', async (t) => {
  const before = stack.emulator!.ciba.pending().length
  const { res } = await startCiba(stack, 'abc-12')
  t.equal(res.status, 400)
  t.match(res.body, /n(?:'|&#39;|&#x27;)est pas un identifiant valide/)
  t.match(res.body, /value="abc-12"/, 'what was typed is kept')
  t.equal(stack.emulator!.ciba.pending().length, before, 'no notification at PSC')
  t.notOk(
    stack.audit.some((e) => e.event === 'ciba' && (e.idNat === 'abc12' || e.idNat === 'abc-12')),
    'no CIBA request for it',
  )
  const rejected = stack.audit.filter(
    (e) => e.event === 'access' && /BAD_LOGIN_HINT: malformed/.test(String((e as { detail?: string }).detail)),
  )
  t.equal(rejected.length, 1, 'the refusal is audited with its reason')
})

t.test('bad input comes back to the form with the problem named', async (t) => {
  const { res } = await startCiba(stack, '997<script>')
  t.equal(res.status, 400)
  t.match(res.body, /ne contient que des chiffres/)
  t.match(res.body, /value="997&lt;script&gt;"/, 'what was typed is kept, escaped')
})

t.test('a form posted from another site sends no push', async (t) => {
  const client = new BrowserLikeClient()
  const res = await client.postForm(
    `${stack.url}/_psc/ciba`,
    { loginHint: INFIRMIER_ADELI, rd: '/' },
    { headers: { Origin: 'https://evil.example' } },
  )
  t.equal(res.status, 403)
  t.equal(stack.emulator!.ciba.pending(INFIRMIER_ADELI).length, 0)
})

t.test('the pending request belongs to the browser that started it', async (t) => {
  const { browser } = await startCiba(stack, TWO_EXERCICES)
  const cookie = browser.cookies(stack.url).find((c) => c.name === 'psc_ciba')
  t.ok(cookie?.httpOnly, 'HttpOnly cookie')
  t.ok(cookie!.value.length > 60, 'a long, signed value')
  const other = new BrowserLikeClient()
  const stolenPage = await other.get(`${stack.url}/_psc/ciba`)
  t.equal(stolenPage.status, 404, 'another browser has nothing to wait for')
  t.match(stolenPage.body, /Demande introuvable/)
  other.setCookie(stack.url, {
    name: 'psc_ciba',
    value: cookie!.value.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
    path: '/',
  })
  t.same(
    JSON.parse((await other.get(`${stack.url}/_psc/ciba/status`)).body),
    { state: 'unknown' },
    'a forged cookie is not accepted',
  )
  await answerOnPhone(stack, TWO_EXERCICES, true)
  t.equal((await waitForEnd(stack, other)).status, 404)
  const mine = await waitForEnd(stack, browser)
  t.equal(mine.status, 303, 'the browser that started it gets the session')
})

t.test('two practitioners log in at once on two workstations', async (t) => {
  const a = await startCiba(stack, ETUDIANT, '/dossier/a')
  const b = await startCiba(stack, INFIRMIER_ADELI.slice(1), '/dossier/b')
  t.equal(a.res.status, 303)
  t.equal(b.res.status, 303)
  await answerOnPhone(stack, INFIRMIER_ADELI, true)
  await answerOnPhone(stack, ETUDIANT, true)
  const [endA, endB] = await Promise.all([waitForEnd(stack, a.browser), waitForEnd(stack, b.browser)])
  t.equal(endA.headers.location, '/dossier/a')
  t.equal(endB.headers.location, '/dossier/b')
  t.equal((await identityHeaders(a.browser, stack))['x-psc-idnat'], ETUDIANT)
  t.equal((await identityHeaders(b.browser, stack))['x-psc-idnat'], INFIRMIER_ADELI)
})
