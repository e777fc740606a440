// Property: reading the session cookie and the login-transaction cookie never throws, whatever the
// Cookie header holds, and only a value signed with a configured secret is ever read as valid.
import fastifyCookie, { sign } from '@fastify/cookie'
import Fastify from 'fastify'
import fc from 'fast-check'
import t from 'tap'
import { decodeTransactions } from '../../src/oidc/transaction.js'
import { readSignedId } from '../../src/session/cookies.js'
import { requestCookies } from '../../src/session/request-cookies.js'

const SECRET = 'property-test-secret-0123456789abcdef-ZZ'

t.test('any Cookie header: the session and transaction cookies read without throwing', async (t) => {
  const app = Fastify()
  // as the gateway registers it: cookies parsed when read
  await app.register(fastifyCookie, { secret: [SECRET], hook: false })
  app.get('/', async (request) => {
    const session = readSignedId(request, 'psc_session')
    const raw = requestCookies(request).psc_login
    const unsigned = raw === undefined ? undefined : request.unsignCookie(raw)
    const tx = unsigned?.valid && unsigned.value !== null ? decodeTransactions(unsigned.value, Date.now()) : []
    return { session, tx: tx.length }
  })
  t.teardown(() => app.close())

  const value = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.string({ unit: 'binary-ascii', maxLength: 80 }),
    fc.constantFrom(
      '',
      '.',
      '..',
      '%',
      '%zz',
      '"',
      '=',
      ';',
      'a'.repeat(300),
      sign('A'.repeat(43), 'another-secret-0123456789abcdef-0000'),
    ),
  )
  const cookieHeader = fc
    .array(fc.tuple(fc.constantFrom('psc_session', 'psc_login', 'other', ''), value), { maxLength: 5 })
    .map((pairs) => pairs.map(([n, v]) => `${n}=${v}`).join('; '))
    // header values may not hold CR, LF or NUL on the wire
    .filter((h) => !/[\r\n\0]/.test(h) && /^[\t\x20-\x7e]*$/.test(h))

  let valid = 0
  await fc.assert(
    fc.asyncProperty(cookieHeader, async (header) => {
      const res = await app.inject({ method: 'GET', url: '/', headers: { cookie: header } })
      if (res.statusCode !== 200) return false
      const body = res.json() as { session: { kind: string } }
      if (body.session.kind === 'valid') valid++
      return true
    }),
    { numRuns: 2000 },
  )
  t.equal(valid, 0, 'nothing unsigned by our secret is ever read as a valid session')

  const genuine = sign('B'.repeat(43), SECRET)
  const res = await app.inject({ method: 'GET', url: '/', headers: { cookie: `psc_session=${genuine}` } })
  t.equal(res.json().session.kind, 'valid', 'while a genuine cookie is')
})
