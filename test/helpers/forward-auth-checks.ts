// The forward-auth header contract, checked the same way behind every real front proxy: a client
// sends a forged copy of every configured header (and its "_" spelling) and the application sees
// only the gateway's values, or nothing; the signed assertion is bound to its route and never
// handed to a browser.
import { request as httpRequest } from 'node:http'
import { createLocalJWKSet, jwtVerify } from 'jose'
import type { Test } from 'tap'
import type { Echo } from '../security/fixture.js'
import { BrowserLikeClient } from './browser-like-client.js'
import { loginThroughEmulator } from './emulator-login.js'
import { AUDIENCE, forgedHeaders, LOGIN, MEDECIN, type ForwardAuthStack } from './forward-auth-stack.js'

const FORGED = 'forged-by-client'

/** No header of the application's request carries a forged value; returns the forged names found. */
function forgedIn(echo: Echo): string[] {
  return Object.entries(echo.headers)
    .filter(([, v]) => (Array.isArray(v) ? v : [v]).some((x) => x.includes(FORGED)))
    .map(([k]) => k)
}

/** A GET straight to the gateway from `localAddress` (127.0.0.2 is not a trusted proxy). */
export function direct(
  url: string,
  headers: Record<string, string>,
  localAddress: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    const req = httpRequest(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, headers, localAddress },
      (res) => {
        res.resume()
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }))
      },
    )
    req.on('error', reject)
    req.end()
  })
}

/**
 * `proxyUrl`: the proxy in front; `clearsPrefixes`: the proxy also removes unconfigured client
 * headers under headers.stripPrefixes (nginx cannot).
 */
export async function checkForwardAuthContract(
  t: Test,
  stack: ForwardAuthStack,
  proxyUrl: string,
  clearsPrefixes: boolean,
  why: () => string,
): Promise<void> {
  const forged = forgedHeaders(stack.contract)
  const assertionHeader = 'x-dpi-assertion'

  await t.test('a public page: none of the client-sent identity headers reaches the application', async (t) => {
    const res = await fetch(`${proxyUrl}/public/page`, { headers: forged })
    t.equal(res.status, 200, why())
    const echo = (await res.json()) as Echo
    const left = forgedIn(echo)
    t.same(
      clearsPrefixes ? left : left.filter((h) => h !== 'x-psc-forged-extra' && h !== 'x_psc_forged_extra'),
      [],
      'every configured header (and its "_" spelling) is cleared',
    )
    for (const h of stack.contract.copy)
      t.notOk(echo.headers[h.toLowerCase()], `${h}: nothing (${JSON.stringify(echo.headers[h.toLowerCase()])})`)
  })

  await t.test('no session: to the login; the application sees nothing', async (t) => {
    const res = await new BrowserLikeClient().get(`${proxyUrl}/medecins/dossier?x=1`, { headers: forged })
    t.equal(res.status, 302, why())
    t.equal(res.headers.location, `${stack.publicUrl}/_psc/login?rd=${encodeURIComponent('/medecins/dossier?x=1')}`)
    t.same(stack.received('/medecins/dossier?x=1'), [])
  })

  const client = new BrowserLikeClient()
  await t.test("logged in: the application sees the gateway's values only, whatever the client sent", async (t) => {
    const landed = await loginThroughEmulator(client, `${proxyUrl}/medecins/dossier`, MEDECIN)
    t.equal(landed.status, 200, `${landed.body.slice(0, 300)}\n${why()}`)
    const res = await client.get(`${proxyUrl}/medecins/dossier`, { headers: forged })
    t.equal(res.status, 200, why())
    const echo = JSON.parse(res.body) as Echo
    const left = forgedIn(echo)
    t.same(
      clearsPrefixes ? left : left.filter((h) => h !== 'x-psc-forged-extra' && h !== 'x_psc_forged_extra'),
      [],
      'no forged value reaches the application',
    )
    t.equal(echo.headers['x-psc-idnat'], MEDECIN)
    t.equal(echo.headers['x-psc-profession-code'], '10')
    t.equal(echo.headers['x-remote-user'], LOGIN, 'the local account, from the gateway')
    t.notOk(echo.headers['x-remote-groups'], "an account without groups: no X-Remote-Groups at all, not the client's")
    t.notOk(echo.headers.x_remote_user, 'nor its "_" spelling')
    const token = echo.headers[assertionHeader] as string
    t.type(token, 'string', 'the signed assertion travels under its configured name')
    const jwks = (await (await fetch(`${proxyUrl}/_psc/jwks.json`)).json()) as { keys: never[] }
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { audience: AUDIENCE, issuer: stack.publicUrl })
    t.equal(payload.idNat, MEDECIN)
    t.equal(payload.route, 'medecins-civils', 'bound to the route that allowed it')
    t.equal(payload.accountLogin, LOGIN)

    const other = JSON.parse((await client.get(`${proxyUrl}/anything`)).body) as Echo
    const { payload: p2 } = await jwtVerify(other.headers[assertionHeader] as string, createLocalJWKSet(jwks), {
      audience: AUDIENCE,
    })
    t.equal(p2.route, 'application', 'another route: another token')
  })

  await t.test('refused by the route rules: 403, never forwarded', async (t) => {
    const res = await client.get(`${proxyUrl}/pharmacie/stock`, { headers: forged })
    t.equal(res.status, 403, why())
    t.same(stack.received('/pharmacie/stock'), [])
  })

  await t.test("a browser asking the gateway's forward-auth endpoint itself never gets the assertion", async (t) => {
    for (const path of [
      '/_psc/auth/medecins/dossier',
      '/_psc/%61uth/medecins/dossier',
      '/_psc//auth/medecins/dossier',
    ]) {
      const res = await client.get(`${proxyUrl}${path}`, {
        headers: { 'X-Original-URI': '/medecins/dossier', 'X-Original-Method': 'GET' },
      })
      t.notOk(res.headers[assertionHeader], `${path} through the proxy (status ${res.status}): no assertion`)
      t.notMatch(res.body, /eyJ/, 'nor in the body')
    }
    const cookie = client
      .cookies(stack.publicUrl)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ')
    const straight = await direct(
      `${stack.gatewayUrl}/_psc/auth/medecins/dossier`,
      { cookie, host: new URL(stack.publicUrl).host },
      '127.0.0.2',
    )
    t.equal(straight.status, 200, 'straight to the gateway from an address that is not a trusted proxy: allowed...')
    t.notOk(straight.headers[assertionHeader], '...but without the assertion')
    const trusted = await direct(
      `${stack.gatewayUrl}/_psc/auth/medecins/dossier`,
      { cookie, host: new URL(stack.publicUrl).host },
      '127.0.0.1',
    )
    t.type(trusted.headers[assertionHeader], 'string', "the trusted proxy's own sub-request (path form) gets it")
  })
}

/**
 * A protected page asked through the proxy on another name than the public URL's ("localhost"
 * for 127.0.0.1): the login URL of the 401 points at the public host, where the login's cookies
 * and callback live, and the login ends there, on the page asked for.
 */
export async function checkLoginOnPublicHost(t: Test, stack: ForwardAuthStack, proxyUrl: string): Promise<void> {
  const other = proxyUrl.replace('127.0.0.1', 'localhost')
  t.not(other, stack.publicUrl)
  const client = new BrowserLikeClient()
  const first = await client.get(`${other}/medecins/dossier?x=1`)
  t.equal(first.status, 302, 'the 401 of the sub-request, made a redirect by the proxy')
  t.equal(
    first.headers.location,
    `${stack.publicUrl}/_psc/login?rd=${encodeURIComponent('/medecins/dossier?x=1')}`,
    'the login on the public host, not on the name the client used',
  )
  const landed = await loginThroughEmulator(client, `${other}/medecins/dossier?x=1`, MEDECIN)
  t.equal(landed.status, 200)
  t.equal(landed.url, `${stack.publicUrl}/medecins/dossier?x=1`, 'logged in, on the public host')
  t.ok(stack.received('/medecins/dossier?x=1').length > 0, 'the application was reached')
}
