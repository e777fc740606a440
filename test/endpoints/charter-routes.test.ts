// The IT charter's endpoints over real HTTP, behind forward-auth too: a front proxy's sub-request
// for a navigation gets 401 and the charter page's URL (as for a login), anything else 403; the
// acceptance is a POST from this origin only, for the version in force; the branding images are
// served with their type and a sandbox.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { startStack, type Stack } from '../helpers/stack.js'

const MEDECIN = '899700218896'
const PNG_1PX = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
)
const dir = mkdtempSync(join(tmpdir(), 'psc-charter-routes-'))
writeFileSync(join(dir, 'charte.txt'), 'Article 1 : vous protégez les données des patients.\n')
writeFileSync(join(dir, 'logo.png'), PNG_1PX)

let stack: Stack
const client = new BrowserLikeClient()

t.before(async () => {
  stack = await startStack({
    extraYaml: `trustedProxies: [127.0.0.1]
charter:
  version: "3"
  file: ${JSON.stringify(join(dir, 'charte.txt'))}
  exempt: [/exempt, exempt.localhost]
branding:
  establishment: CHU de Test
  logo: ${JSON.stringify(join(dir, 'logo.png'))}
`,
  })
  // the login ends on the charter page
  const landed = await loginThroughEmulator(client, `${stack.url}/_psc/login?rd=%2Fdossier%2F1&via=psc`, MEDECIN)
  if (!landed.url.includes('/_psc/charter')) throw new Error(`expected the charter page, got ${landed.url}`)
})
t.teardown(() => stack?.close())

const auth = (uri: string, headers: Record<string, string> = {}) =>
  client.get(`${stack.url}/_psc/auth`, { headers: { 'x-original-uri': uri, 'x-original-method': 'GET', ...headers } })

t.test(
  'forward-auth: a navigation gets 401 and the charter URL; a script gets 403 JSON; exempt ones pass',
  async (t) => {
    const nav = await auth('/dossier/1', { accept: 'text/html', 'sec-fetch-mode': 'navigate' })
    t.equal(nav.status, 401)
    const charterUrl = `${stack.url}/_psc/charter?rd=%2Fdossier%2F1`
    t.equal(nav.headers.location, charterUrl)
    t.equal(nav.headers['x-auth-request-redirect'], charterUrl)
    t.equal(nav.headers['x-psc-error'], 'PSC_ERR_CHARTER_REQUIRED')
    t.match(nav.body, /Charte d&#39;utilisation à accepter/)
    const xhr = await auth('/api/list', {
      accept: 'application/json',
      'x-requested-with': 'XMLHttpRequest',
      'sec-fetch-mode': 'cors',
    })
    t.equal(xhr.status, 403)
    t.equal(xhr.headers['x-psc-error'], 'PSC_ERR_CHARTER_REQUIRED')
    t.match(JSON.parse(xhr.body), {
      error: 'PSC_ERR_CHARTER_REQUIRED',
      charter: `${stack.url}/_psc/charter?rd=%2Fapi%2Flist`,
    })
    const image = await auth('/logo.png', { accept: 'image/avif,image/*', 'sec-fetch-mode': 'no-cors' })
    t.equal(image.status, 403)
    t.match(image.headers['content-type'], /^text\/plain/, 'a sub-resource gets plain text, not the page')
    t.equal((await auth('/exempt/x')).status, 200, 'an exempt path')
    t.equal((await auth('/dossier/1', { 'x-forwarded-host': 'exempt.localhost' })).status, 200, 'an exempt host')
  },
)

t.test('the acceptance: refused from another site, a stale version shows the charter again', async (t) => {
  const page = await client.get(`${stack.url}/_psc/charter?rd=%2Fdossier%2F1`)
  t.equal(page.status, 200)
  t.match(page.body, /vous protégez les données des patients/)
  t.match(page.body, /id="branding-establishment">CHU de Test</)
  t.equal(page.headers['referrer-policy'], 'same-origin', 'the form posts carry our Origin')
  const crossSite = await client.postForm(
    `${stack.url}/_psc/charter`,
    { rd: '/dossier/1', version: '3' },
    { headers: { origin: 'https://evil.example' } },
  )
  t.equal(crossSite.status, 403)
  t.match(crossSite.body, /PSC_ERR_CROSS_SITE|refusée/)
  t.equal(stack.audit.filter((e) => e.event === 'charter').length, 0, 'nothing accepted')
  const stale = await client.postForm(
    `${stack.url}/_psc/charter`,
    { rd: '/dossier/1', version: '2' },
    { headers: { origin: stack.url } },
  )
  t.equal(stale.status, 303)
  t.equal(stale.headers.location, '/_psc/charter?rd=%2Fdossier%2F1')
  t.equal((await auth('/dossier/1')).status, 401, 'still not accepted')
  const offsite = await client.postForm(
    `${stack.url}/_psc/charter`,
    { rd: 'https://evil.example/', version: '3' },
    { headers: { origin: stack.url } },
  )
  t.equal(offsite.status, 303)
  t.equal(offsite.headers.location, '/', 'never sent off the gateway after accepting')
  t.match(
    stack.audit.filter((e) => e.event === 'charter'),
    [{ outcome: 'accepted', idNat: MEDECIN, charterVersion: '3' }],
  )
  t.equal((await auth('/dossier/1')).status, 200, 'forward-auth lets the practitioner through now')
  const again = await client.get(`${stack.url}/_psc/charter?rd=%2Fdossier%2F1`)
  t.equal(again.status, 302, 'the charter page itself sends an accepted practitioner on')
  t.equal(again.headers.location, '/dossier/1')
})

t.test('without a session the charter page sends to the login', async (t) => {
  const anonymous = await new BrowserLikeClient().get(`${stack.url}/_psc/charter?rd=%2Fdossier%2F2`)
  t.equal(anonymous.status, 302)
  t.equal(anonymous.headers.location, '/_psc/login?rd=%2Fdossier%2F2')
})

t.test('the logo: served by the gateway with the type of its bytes, and a sandbox', async (t) => {
  const res = await fetch(`${stack.url}/_psc/branding/logo`)
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'image/png')
  t.equal(res.headers.get('x-content-type-options'), 'nosniff')
  t.match(res.headers.get('content-security-policy'), /sandbox/)
  t.same(Buffer.from(await res.arrayBuffer()), PNG_1PX)
  t.equal((await fetch(`${stack.url}/_psc/branding/psc-button`)).status, 404, 'no button image configured: none served')
})
