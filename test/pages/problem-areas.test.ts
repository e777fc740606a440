// The page texts are grouped by area (src/pages/problems/); the lookup joins them by spreading, so a
// code written by two areas would silently lose one of its texts: each code belongs to one area.
import t from 'tap'
import { PSC_ERR } from '../../src/errors.js'
import { ACCESS_PROBLEMS } from '../../src/pages/problems/access-problems.js'
import { AVAILABILITY_PROBLEMS } from '../../src/pages/problems/availability-problems.js'
import { CHARTER_PROBLEMS } from '../../src/pages/problems/charter-problems.js'
import { LOGIN_PROBLEMS } from '../../src/pages/problems/login-problems.js'
import { REQUEST_PROBLEMS } from '../../src/pages/problems/request-problems.js'
import { SESSION_PROBLEMS } from '../../src/pages/problems/session-problems.js'

t.test('every outcome code has its page text in exactly one area', async (t) => {
  const areas = {
    ACCESS_PROBLEMS,
    AVAILABILITY_PROBLEMS,
    CHARTER_PROBLEMS,
    LOGIN_PROBLEMS,
    REQUEST_PROBLEMS,
    SESSION_PROBLEMS,
  }
  const owners = new Map<string, string[]>()
  for (const [area, texts] of Object.entries(areas))
    for (const code of Object.keys(texts)) owners.set(code, [...(owners.get(code) ?? []), area])
  t.same(
    [...owners].filter(([, inAreas]) => inAreas.length > 1),
    [],
    'no code is written by two areas',
  )
  t.same(
    Object.values(PSC_ERR)
      .map((d) => d.code)
      .filter((code) => !owners.has(code)),
    [],
    'no code is without a text',
  )
})
