// session.acceptedSecrets: secrets that verify a cookie but never sign one (the first phase of a
// rotation across replicas). The configuration refuses a secret both signing and accepted, or
// accepted twice; an empty substituted entry means "none"; the cookie plugin gets the accepted
// ones after every signing one, so that they never sign.
import t from 'tap'
import { cookieSecrets } from '../../src/session/cookies.js'
import { BASE, brief, ENV, issuesOf, load, SECRET, SECRET2 } from '../config/fixture.js'

const withAccepted = (entries: string) =>
  BASE.replace('    - ${SESSION_SECRET}\n', `    - \${SESSION_SECRET}\n  acceptedSecrets:\n${entries}`)

t.test('accepted secrets load, and come after the signing ones', async (t) => {
  const { config } = load(withAccepted('    - ${SESSION_SECRET_NEXT}\n'), { ...ENV, SESSION_SECRET_NEXT: SECRET2 })
  t.same(config.session.secrets, [SECRET])
  t.same(config.session.acceptedSecrets, [SECRET2])
  t.same(cookieSecrets(config.session), [SECRET, SECRET2], 'the first signs: never an accepted one')
  t.same(load(BASE).config.session.acceptedSecrets, [], 'none by default')
})

t.test('an empty substituted entry means no accepted secret', async (t) => {
  const { config } = load(withAccepted('    - ${SESSION_SECRET_NEXT:-}\n'))
  t.same(config.session.acceptedSecrets, [])
})

t.test('a secret both signing and accepted, accepted twice, or short, is refused with its line', async (t) => {
  t.same(brief(issuesOf(withAccepted('    - ${SESSION_SECRET}\n'))), [
    '10:session.acceptedSecrets[0]: this secret is already session.secrets[0]: a secret either signs (secrets) or only verifies (acceptedSecrets)',
  ])
  t.same(brief(issuesOf(withAccepted('    - ${A}\n    - ${A}\n'), { ...ENV, A: SECRET2 })), [
    '11:session.acceptedSecrets[1]: this secret is the same as session.acceptedSecrets[0]; each secret must be distinct',
  ])
  const short = brief(issuesOf(withAccepted('    - ${A}\n'), { ...ENV, A: 'short' }))
  t.equal(short.length, 1)
  t.match(short[0], /^10:session\.acceptedSecrets\/?\[?0\]?.*(32|characters)/)
  t.notOk(short[0]!.includes('short'), 'the secret is not echoed')
})
