// Session control on one gateway with the memory store: the admin API lists and revokes (the
// practitioner's next request is refused), session.onePerPractitioner ends the older session at a
// new login, and without admin.tokenFile the session API is off and says so. Every audit event
// written here is checked against docs/audit-events.schema.json by the stack.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import type { AuditEvent } from '../../src/audit/events.js'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { answerOnPhone, CIBA_YAML, startCiba, waitForEnd } from '../helpers/ciba.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { freePort, startStack } from '../helpers/stack.js'

const TOKEN = 'soc-token-0123456789abcdef0123456789abcdef'
const dir = mkdtempSync(join(tmpdir(), 'psc-session-control-'))
const tokenFile = join(dir, 'admin-token')
writeFileSync(tokenFile, TOKEN)
const bearer = { authorization: `Bearer ${TOKEN}`, accept: 'application/json' }

const ended = (audit: AuditEvent[], reason: string) =>
  audit.filter((e) => e.event === 'session' && e.outcome === 'ended' && e.reason === reason)

t.test('memory store: list and revoke through the admin API', async (t) => {
  const adminPort = await freePort()
  const stack = await startStack({ adminPort, adminTokenFile: tokenFile })
  t.teardown(() => stack.close())
  const admin = `http://127.0.0.1:${adminPort}`
  const browser = new BrowserLikeClient()
  await loginThroughEmulator(browser, `${stack.url}/dossier`, '899700218896')
  await browser.get(`${stack.url}/dossier/patient-12?nom=secret`)

  const res = await fetch(`${admin}/sessions?practitioner=899700218896`, { headers: bearer })
  t.equal(res.status, 200)
  t.equal(res.headers.get('cache-control'), 'no-store')
  const { sessions } = (await res.json()) as { sessions: Array<Record<string, string>> }
  t.equal(sessions.length, 1)
  t.match(sessions[0], {
    idNat: '899700218896',
    loginMethod: 'redirect',
    loginClient: '127.0.0.1',
    createdAt: /^\d{4}-\d\d-\d\dT/,
  })
  t.notMatch(JSON.stringify(sessions), /secret/, 'never a query string')

  const bad = await fetch(`${admin}/sessions?practitioner=${encodeURIComponent('<x>')}`, { headers: bearer })
  t.equal(bad.status, 400)
  const everyone = await fetch(`${admin}/sessions`, { method: 'DELETE', headers: bearer })
  t.equal(everyone.status, 400, 'never every session of everyone for a forgotten filter')

  const revoked = await fetch(`${admin}/sessions/${sessions[0]!.ref}`, { method: 'DELETE', headers: bearer })
  t.equal(revoked.status, 200)
  const next = await browser.get(`${stack.url}/dossier?format=json`)
  t.equal(next.status, 302, 'the next request is sent to log in again')
  t.match(next.headers.location, /\/_psc\/login/)
  t.match(ended(stack.audit, 'admin-revoked'), [{ session: sessions[0]!.ref, idNat: '899700218896' }])
  t.match(
    stack.audit.find((e) => e.event === 'admin' && e.action === 'session-revoked'),
    { outcome: 'done', by: 'soc', client: '127.0.0.1' },
  )
})

t.test('session.onePerPractitioner: a new login ends the older session', async (t) => {
  const stack = await startStack({ onePerPractitioner: true })
  t.teardown(() => stack.close())
  const office = new BrowserLikeClient()
  const ward = new BrowserLikeClient()
  await loginThroughEmulator(office, `${stack.url}/dossier`, '899700218896')
  t.equal((await office.get(`${stack.url}/dossier?format=json`)).status, 200)
  await loginThroughEmulator(ward, `${stack.url}/dossier`, '899700218896')
  t.equal((await ward.get(`${stack.url}/dossier?format=json`)).status, 200, 'the new session works')
  t.equal((await office.get(`${stack.url}/dossier?format=json`)).status, 302, 'the older one is over')
  const superseded = ended(stack.audit, 'superseded')
  t.equal(superseded.length, 1, 'audited once')
  t.match(superseded[0], { idNat: '899700218896', session: /^[\w-]{16}$/, client: '127.0.0.1' })

  // Without the option, both live on.
  const plain = await startStack({})
  t.teardown(() => plain.close())
  const one = new BrowserLikeClient()
  const two = new BrowserLikeClient()
  await loginThroughEmulator(one, `${plain.url}/dossier`, '899700218896')
  await loginThroughEmulator(two, `${plain.url}/dossier`, '899700218896')
  t.equal((await one.get(`${plain.url}/dossier?format=json`)).status, 200)
  t.same(ended(plain.audit, 'superseded'), [])
})

t.test('without admin.tokenFile the session API is off and says so', async (t) => {
  const adminPort = await freePort()
  const stack = await startStack({ adminPort })
  t.teardown(() => stack.close())
  const res = await fetch(`http://127.0.0.1:${adminPort}/sessions`, { headers: bearer })
  t.equal(res.status, 404)
  t.match(await res.json(), { error: 'session_api_off', message: /admin\.tokenFile/ })
  const en = await fetch(`http://127.0.0.1:${adminPort}/sessions`, {
    headers: { ...bearer, 'accept-language': 'en' },
  })
  t.match(await en.json(), { message: /The session API is off/ })
  t.match(
    stack.audit.find((e) => e.event === 'admin'),
    { outcome: 'refused', action: 'sessions-listed', reason: 'admin.tokenFile is not set' },
  )
})

t.test('a login by e-CPS notification (CIBA) is listed as such, and revoked like any other', async (t) => {
  const adminPort = await freePort()
  const stack = await startStack({
    adminPort,
    adminTokenFile: tokenFile,
    pscYaml: CIBA_YAML(),
    emulatorCiba: { intervalSeconds: 1 },
  })
  t.teardown(() => stack.close())
  const admin = `http://127.0.0.1:${adminPort}`
  const { browser } = await startCiba(stack, '997 002 188 96')
  await answerOnPhone(stack, '899700218896', true)
  t.equal((await waitForEnd(stack, browser)).status, 303)
  t.equal((await browser.get(`${stack.url}/dossier?format=json`)).status, 200)

  const { sessions } = (await (await fetch(`${admin}/sessions`, { headers: bearer })).json()) as {
    sessions: Array<Record<string, string>>
  }
  t.match(sessions, [{ idNat: '899700218896', loginMethod: 'ciba', loginClient: '127.0.0.1' }])
  const res = await fetch(`${admin}/sessions?practitioner=99700218896`, { method: 'DELETE', headers: bearer })
  t.match(await res.json(), { revoked: [{ ref: sessions[0]!.ref, loginMethod: 'ciba' }] })
  t.equal((await browser.get(`${stack.url}/dossier?format=json`)).status, 302)
})
