// CIBA when things go wrong: the request expires, PSC asks to slow down, PSC goes away while the
// gateway polls, and someone tries to flood a practitioner's phone (push bombing).
import t from 'tap'
import type { AuditEvent } from '../../src/audit/events.js'
import { startEmulator } from '../../dev/emulator/index.js'
import type { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { answerOnPhone, CIBA_YAML, startCiba, waitForEnd } from '../helpers/ciba.js'
import { CLIENT_ID, CLIENT_SECRET, freePort, SERVICE_NAME, startStack, type Stack } from '../helpers/stack.js'

const MEDECIN = '899700218896'
const PHARMACIEN = '899700367915'

const cibaEvents = (s: Stack, idNat?: string) =>
  s.audit.filter(
    (e): e is Extract<AuditEvent, { event: 'ciba' }> =>
      e.event === 'ciba' && (idNat === undefined || e.idNat === idNat),
  )

t.test('no answer before the request expires: a French page, audited', async (t) => {
  const stack = await startStack({ pscYaml: CIBA_YAML(), emulatorCiba: { intervalSeconds: 1, expiresInSeconds: 2 } })
  t.teardown(() => stack.close())
  const { res, browser } = await startCiba(stack, MEDECIN)
  t.equal(res.status, 303)
  const page = await waitForEnd(stack, browser, 10_000)
  t.equal(page.status, 410)
  t.match(page.body, /Demande expirée/)
  t.match(page.body, /Réessayer/)
  t.same(
    cibaEvents(stack, MEDECIN).map((e) => e.outcome),
    ['requested', 'expired'],
  )
  const failed = stack.audit.find((e) => e.event === 'login' && e.outcome === 'failed' && e.loginMethod === 'ciba')
  t.ok(failed, 'login failed, method ciba')
  // As every CIBA answer: the general code in reason, the CIBA code first in detail.
  t.match(
    failed,
    { reason: 'PSC_ERR_LOGIN_PSC_ERROR', detail: /^PSC_ERR_CIBA_EXPIRED: / },
    'reason and detail as docs/troubleshooting.md says',
  )
  // the expired request no longer blocks a new one
  const again = await startCiba(stack, MEDECIN)
  t.equal(again.res.status, 303)
})

t.test('slow_down: the gateway polls less often, and the login still succeeds', async (t) => {
  const stack = await startStack({ pscYaml: CIBA_YAML(), emulatorCiba: { intervalSeconds: 1, minPollSeconds: 3 } })
  t.teardown(() => stack.close())
  const { res, browser } = await startCiba(stack, MEDECIN)
  t.equal(res.status, 303)
  const polls = stack.emulator!.ciba.polls
  const deadline = Date.now() + 10_000
  while (!polls.some((p) => p.answer === 'slow_down') && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100))
  const slowDown = polls.findIndex((p) => p.answer === 'slow_down')
  t.ok(slowDown > 0, 'PSC answered slow_down')
  while (polls.length < slowDown + 2 && Date.now() < deadline + 10_000) await new Promise((r) => setTimeout(r, 100))
  const gap = polls[slowDown + 1]!.at - polls[slowDown]!.at
  t.ok(gap >= 5_500, `after slow_down the next poll waits interval + 5 s (waited ${gap} ms)`)
  t.notOk(
    polls.slice(slowDown + 1).some((p) => p.answer === 'slow_down'),
    'no further slow_down',
  )
  await answerOnPhone(stack, MEDECIN, true)
  const landed = await waitForEnd(stack, browser, 15_000)
  t.equal(landed.status, 303)
  t.equal(landed.headers.location, '/dossier/42?onglet=bio')
})

t.test('PSC goes away while the gateway polls: a French page saying so, audited', async (t) => {
  const port = await freePort()
  const publicUrl = `http://127.0.0.1:${port}`
  const emulator = await startEmulator({
    port: 0,
    clients: [
      {
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUris: [`${publicUrl}/_psc/callback`],
        postLogoutRedirectUris: [],
        serviceName: SERVICE_NAME,
      },
    ],
    ciba: { intervalSeconds: 1 },
  })
  const stack = await startStack({ port, emulator, pscYaml: CIBA_YAML() })
  t.teardown(() => stack.close())
  const { res, browser } = await startCiba(stack, MEDECIN)
  t.equal(res.status, 303)
  await emulator.close()
  const page = await waitForEnd(stack, browser, 20_000)
  t.equal(page.status, 503)
  t.match(page.body, /Service de connexion indisponible/)
  t.match(page.body, /Utiliser ma carte CPS/)
  const ended = cibaEvents(stack, MEDECIN).at(-1)
  t.equal(ended?.outcome, 'failed')
  t.match(ended?.reason ?? '', /PSC unreachable while polling/)
  t.ok(
    stack.logs.some((l) => l.includes('PSC unreachable while polling; polling again')),
    'retried before giving up',
  )
})

t.test('abuse limits: one waiting push per practitioner, so many per practitioner and per address', async (t) => {
  const stack = await startStack({
    pscYaml: CIBA_YAML(`    limits:
      perIdNat: { max: 2, window: 10m }
      perClient: { max: 3, window: 10m }
`),
    emulatorCiba: { intervalSeconds: 1 },
  })
  t.teardown(() => stack.close())
  const phone = stack.emulator!.ciba
  const cancel = async (browser: BrowserLikeClient) => {
    const res = await browser.postForm(`${stack.url}/_psc/ciba/cancel`, {})
    t.equal(res.status, 303)
  }

  const first = await startCiba(stack, MEDECIN)
  t.equal(first.res.status, 303)
  const second = await startCiba(stack, MEDECIN)
  t.equal(second.res.status, 429, 'a second push while one waits is refused')
  t.match(second.res.body, /Demande déjà en cours/)
  t.equal(phone.pending(MEDECIN).length, 1, 'the phone got one notification')
  await cancel(first.browser)
  t.equal((await first.browser.get(`${stack.url}/_psc/ciba/status`)).body, '{"state":"unknown"}', 'cancelled')

  const third = await startCiba(stack, MEDECIN)
  t.equal(third.res.status, 303, 'after the cancel, a new push may go')
  await cancel(third.browser)
  const fourth = await startCiba(stack, MEDECIN)
  t.equal(fourth.res.status, 429, 'perIdNat: 2 pushes in the window')
  t.match(fourth.res.body, /Trop de demandes/)
  t.ok(Number(fourth.res.headers['retry-after']) > 0)

  const fifth = await startCiba(stack, PHARMACIEN)
  t.equal(fifth.res.status, 429, 'perClient: 3 requests from this address in the window')
  t.equal(phone.pending(PHARMACIEN).length, 0)

  const refused = cibaEvents(stack)
    .filter((e) => e.outcome === 'refused')
    .map((e) => [e.idNat, e.reason, e.client])
  t.same(refused, [
    [MEDECIN, 'limit pending', '127.0.0.1'],
    [MEDECIN, 'limit per_idnat', '127.0.0.1'],
    [PHARMACIEN, 'limit per_client', '127.0.0.1'],
  ])
  t.same(cibaEvents(stack).filter((e) => e.outcome === 'requested').length, 2, 'two pushes in all')
})
