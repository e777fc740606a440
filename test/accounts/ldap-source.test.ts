// The LDAP/Active Directory source against a real OpenLDAP (test/helpers/slapd.ts): LDAPS with the
// test CA, StartTLS, escaping, the cache and its stale limit while the directory is down, recovery,
// and the timeout when the directory hangs.
import t from 'tap'
import { LdapAccountSource, type LookupOutcome } from '../../src/accounts/ldap-source.js'
import { ldapHealthCheck } from '../../src/accounts/ldap-health.js'
import type { LdapSettings } from '../../src/config/types.js'
import type { Identity } from '../../src/psc/identity.js'
import { LDAP_BASE, LDAP_BIND_DN, LDAP_BIND_PASSWORD, startSlapd, type Slapd } from '../helpers/slapd.js'

const MEDECIN = {
  rpps: '99700218896',
  login: 'edubois',
  displayName: 'Élodie Lefèvre-Dubois',
  groups: ['DPI-Medecins', 'DPI Admins, Nord'],
}
const INFIRMIER = { rpps: '99700000017', login: 'acoeur', displayName: 'Anne Cœur', groups: [] }
// Two entries for one RPPS (an account created twice), an AD account disabled (514) and one enabled (512)
const DOUBLE = '99700111112'
const TWICE = [
  { rpps: DOUBLE, login: 'pmartin', displayName: 'Paul Martin', groups: [] },
  { rpps: DOUBLE, login: 'pmartin2', displayName: 'Paul Martin', groups: [] },
]
const DISABLED = {
  rpps: '99700222223',
  login: 'parti',
  displayName: 'Parti Ancien',
  groups: ['DPI-Medecins'],
  userAccountControl: 514,
}
const ENABLED = {
  rpps: '99700333334',
  login: 'actif',
  displayName: 'Actif Présent',
  groups: [],
  userAccountControl: 512,
}

let slapd: Slapd
t.before(async () => {
  slapd = await startSlapd([MEDECIN, INFIRMIER, ...TWICE, DISABLED, ENABLED])
})
t.teardown(() => slapd.close())

const who = (rpps: string): Identity => ({
  sub: `f:x:8${rpps}`,
  idNat: `8${rpps}`,
  rpps,
  familyName: 'X',
  givenName: 'Y',
  acr: 'eidas1',
  exercices: [],
})

const settings = (over: Partial<LdapSettings> = {}): LdapSettings => ({
  url: slapd.ldapsUrl,
  startTls: false,
  caFile: slapd.caFile,
  bindDn: LDAP_BIND_DN,
  bindPassword: LDAP_BIND_PASSWORD,
  baseDn: LDAP_BASE,
  filter: '(&(objectClass=user)(employeeID={rpps}))',
  loginAttribute: 'sAMAccountName',
  displayNameAttribute: 'displayName',
  groupsAttribute: 'memberOf',
  nestedGroups: false,
  timeoutMs: 1000,
  poolSize: 2,
  cacheTtlMs: 60_000,
  negativeCacheTtlMs: 10_000,
  staleLimitMs: 3_600_000,
  cacheMax: 100,
  ...over,
})

t.test(
  'LDAPS with the hospital CA: login, display name and groups (first RDN of memberOf, escapes undone)',
  async (t) => {
    const source = new LdapAccountSource(settings())
    t.teardown(() => source.close())
    const found = await source.lookup(who(MEDECIN.rpps))
    t.match(found, { status: 'found', login: 'edubois', displayName: 'Élodie Lefèvre-Dubois' })
    t.same(found.status === 'found' && [...found.groups].sort(), ['DPI Admins, Nord', 'DPI-Medecins'])
    t.match(await source.lookup(who('99700999999')), { status: 'none' }, 'an RPPS not in the directory has no account')
    const noRpps = { ...who('1'), idNat: '0012345678', rpps: undefined } as unknown as Identity
    t.match(await source.lookup(noRpps), { status: 'none' }, 'a practitioner without RPPS cannot be searched by RPPS')
    t.same(source.health(), { ok: true, reason: `directory ${slapd.ldapsUrl} answering` })
  },
)

t.test('StartTLS on ldap://, and a filter by idNat whose value is escaped', async (t) => {
  const source = new LdapAccountSource(
    settings({ url: slapd.ldapUrl, startTls: true, filter: '(&(objectClass=user)(employeeID={idNat}))' }),
  )
  t.teardown(() => source.close())
  // employeeID holds RPPS numbers: an idNat never matches, and "*" must not match everyone
  t.match(
    await source.lookup({ ...who(MEDECIN.rpps), idNat: '*' }),
    { status: 'none' },
    '"*" is searched literally (\\2a), not as a wildcard',
  )
  t.match(await source.lookup({ ...who(MEDECIN.rpps), idNat: MEDECIN.rpps }), { status: 'found', login: 'edubois' })
  t.match(
    await source.lookup({ ...who(MEDECIN.rpps), idNat: `${MEDECIN.rpps})(employeeID=*` }),
    { status: 'none' },
    'parentheses cannot close the filter',
  )
})

t.test('a certificate from another CA, a wrong password: unavailable, with the reason for the log', async (t) => {
  const otherCa = new LdapAccountSource(settings({ caFile: slapd.otherCaFile }))
  const lookup = await otherCa.lookup(who(MEDECIN.rpps))
  t.match(lookup, { status: 'unavailable' })
  t.match(lookup.status === 'unavailable' && lookup.reason, /certificate|self.signed|verify/i)
  t.equal(otherCa.health().ok, false)
  await otherCa.close()
  const badPassword = new LdapAccountSource(settings({ bindPassword: 'wrong' }))
  const denied = await badPassword.lookup(who(MEDECIN.rpps))
  t.match(denied, { status: 'unavailable', reason: /InvalidCredentials|credentials/i })
  t.notMatch(JSON.stringify(denied), /wrong|svc-psc-test-password/, 'no password in the reason')
  await badPassword.close()
  const health = await ldapHealthCheck(settings({ bindPassword: 'wrong' }))
  t.equal(health.ok, false)
  t.equal(health.steps[0]?.step, 'bind')
})

t.test('ldapHealthCheck: bind, base, and a test search of a known practitioner', async (t) => {
  const health = await ldapHealthCheck(settings(), { rpps: MEDECIN.rpps })
  t.same(
    health.steps.map((s) => [s.step, s.ok]),
    [
      ['bind', true],
      ['base', true],
      ['search', true],
    ],
  )
  t.match(health.steps[2]!.detail, /edubois/)
  const missing = await ldapHealthCheck(settings(), { rpps: '99700999999' })
  t.equal(missing.ok, false, 'a probe that finds nobody fails the check')
})

t.test(
  'two entries for one practitioner: "duplicate", logged with the filter, and the directory is not marked down',
  async (t) => {
    const problems: string[] = []
    const outcomes: LookupOutcome[] = []
    const source = new LdapAccountSource(settings(), {
      onDataProblem: (m) => problems.push(m),
      observe: (o) => outcomes.push(o),
    })
    t.teardown(() => source.close())
    t.match(await source.lookup(who(DOUBLE)), { status: 'duplicate' })
    t.same(
      source.health(),
      { ok: true, reason: `directory ${slapd.ldapsUrl} answering` },
      'the directory answered: no outage',
    )
    t.match(problems, [/employeeID=99700111112.*several entries.*cn=pmartin,.*cn=pmartin2,/])
    t.match(
      await source.lookup(who(MEDECIN.rpps)),
      { status: 'found', login: 'edubois' },
      'other practitioners are served',
    )
    t.match(
      await source.lookup(who(DOUBLE)),
      { status: 'duplicate' },
      'remembered like "no account" (negativeCacheTtl)',
    )
    t.same(outcomes, ['duplicate', 'found', 'cached'])
  },
)

t.test(
  'an Active Directory account disabled (userAccountControl 514) is refused by default; 512 is served',
  async (t) => {
    const source = new LdapAccountSource(settings())
    t.teardown(() => source.close())
    t.same((await source.lookup(who(DISABLED.rpps))).status, 'disabled')
    t.match(await source.lookup(who(ENABLED.rpps)), { status: 'found', login: 'actif' })
    t.match(
      await source.lookup(who(MEDECIN.rpps)),
      { status: 'found', login: 'edubois' },
      'an entry without userAccountControl (not AD) is served',
    )
    t.equal(source.health().ok, true)
  },
)

t.test('before its first answer the directory is "not contacted yet", never "answering"', async (t) => {
  const source = new LdapAccountSource(settings({ url: 'ldaps://127.0.0.1:9' }))
  t.teardown(() => source.close())
  t.match(source.health(), { ok: false, reason: /not contacted yet/ })
  await source.probe()
  t.match(source.health(), { ok: false, reason: /not answering since .*ECONNREFUSED/ })
  const up = new LdapAccountSource(settings())
  t.teardown(() => up.close())
  await up.probe()
  t.same(up.health(), { ok: true, reason: `directory ${slapd.ldapsUrl} answering` })
})

t.test(
  'directory down: cached answers up to the stale limit, new ones unavailable; it recovers by itself',
  async (t) => {
    let offset = 0
    const outcomes: LookupOutcome[] = []
    const source = new LdapAccountSource(settings({ cacheTtlMs: 1000, staleLimitMs: 10_000 }), {
      now: () => Date.now() + offset,
      observe: (o) => outcomes.push(o),
    })
    t.teardown(() => source.close())
    t.match(await source.lookup(who(MEDECIN.rpps)), { status: 'found', login: 'edubois' })
    t.match(
      await source.lookup(who(MEDECIN.rpps)),
      { status: 'found', login: 'edubois' },
      'within cacheTtl: from the cache',
    )
    t.same(outcomes, ['found', 'cached'])
    await slapd.stop()
    t.teardown(() => slapd.start().catch(() => {}))
    offset = 2000 // past cacheTtl, within staleLimit
    const started = Date.now()
    const stale = await source.lookup(who(MEDECIN.rpps))
    t.match(
      stale,
      { status: 'found', login: 'edubois', stale: true },
      'the cached answer serves while the directory is down',
    )
    const unknown = await source.lookup(who(INFIRMIER.rpps))
    t.match(unknown, { status: 'unavailable' }, 'a practitioner never looked up cannot be answered')
    t.ok(Date.now() - started < 2500, 'a stopped directory is known at once (connection refused), nothing waits')
    t.equal(source.health().ok, false)
    t.match(source.health().reason, /not answering since/)
    offset = 20_000 // past the stale limit
    t.match(
      await source.lookup(who(MEDECIN.rpps)),
      { status: 'unavailable' },
      'past staleLimit the cached answer is no longer used',
    )
    await slapd.start()
    t.match(
      await source.lookup(who(INFIRMIER.rpps)),
      { status: 'found', login: 'acoeur', groups: [] },
      'back up: answered with no restart',
    )
    t.match(await source.lookup(who(MEDECIN.rpps)), { status: 'found', login: 'edubois' })
    t.equal(source.health().ok, true)
    t.same(outcomes.slice(2), ['stale', 'unavailable', 'unavailable', 'found', 'found'])
  },
)

t.test('a directory that hangs (SIGSTOP) is given up after the timeout, and used again once it answers', async (t) => {
  const source = new LdapAccountSource(settings({ timeoutMs: 800 }))
  t.teardown(() => source.close())
  t.match(await source.lookup(who(MEDECIN.rpps)), { status: 'found' }, 'a pooled, bound connection exists')
  const pid = slapd.pid()!
  process.kill(pid, 'SIGSTOP')
  // SIGSTOP reaches each of slapd's threads in turn: on a busy machine one may still answer for a
  // moment. Wait until the kernel shows every thread stopped.
  await untilStopped(pid)
  let resumed = false
  const resume = () => {
    if (!resumed) {
      resumed = true
      process.kill(pid, 'SIGCONT')
    }
  }
  t.teardown(resume)
  const started = Date.now()
  const hung = await source.lookup(who(INFIRMIER.rpps))
  const elapsed = Date.now() - started
  t.match(hung, { status: 'unavailable', reason: /within 800 ms/ })
  t.ok(elapsed >= 700 && elapsed < 1500, `gave up after the timeout (${elapsed} ms)`)
  resume()
  t.match(await source.lookup(who(INFIRMIER.rpps)), { status: 'found', login: 'acoeur' })
})

t.test(
  'a directory that crashed and came back: the dead pooled connection is noticed at once (StartTLS and LDAPS)',
  async (t) => {
    for (const over of [
      { url: slapd.ldapUrl, startTls: true },
      { url: slapd.ldapsUrl, startTls: false },
    ]) {
      const source = new LdapAccountSource(settings({ ...over, timeoutMs: 3000, cacheTtlMs: 0, negativeCacheTtlMs: 0 }))
      t.teardown(() => source.close())
      t.match(await source.lookup(who(MEDECIN.rpps)), { status: 'found' }, 'a pooled, bound connection exists')
      await slapd.crash()
      await slapd.start()
      const started = Date.now()
      const again = await source.lookup(who(MEDECIN.rpps))
      const elapsed = Date.now() - started
      t.match(again, { status: 'found', login: 'edubois' }, `${over.url}: answered by the restarted directory`)
      t.ok(
        elapsed < 1000,
        `${over.startTls ? 'StartTLS' : 'LDAPS'}: ${elapsed} ms, not the 3000 ms timeout on a dead socket`,
      )
    }
  },
)

async function untilStopped(pid: number): Promise<void> {
  const { readdirSync, readFileSync } = await import('node:fs')
  for (let i = 0; i < 100; i++) {
    const states = readdirSync(`/proc/${pid}/task`).map(
      (tid) => readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').replace(/^.*\) /, '')[0],
    )
    if (states.every((s) => s === 'T' || s === 't')) return
    await new Promise((r) => setTimeout(r, 10))
  }
}
