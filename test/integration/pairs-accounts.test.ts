// Local accounts meeting other features, over real HTTP with the PSC emulator: a configuration
// reload and an edited mapping file (the next requests' headers follow, the session's account
// renewed on its schedule), and replicas sharing sessions in a real Redis (the account travels in
// the session: the second gateway forwards it without looking it up).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { loadConfigText } from '../../src/config/load.js'
import { startEmulator } from '../../dev/emulator/index.js'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { startRedis } from '../helpers/redis.js'
import {
  CLIENT_SECRET,
  emulatorClientFor,
  freePort,
  stackYaml,
  startStack,
  type StackOptions,
} from '../helpers/stack.js'

const MEDECIN = '899700218896'
const RPPS = MEDECIN.slice(1)

async function headersOf(client: BrowserLikeClient, url: string): Promise<Record<string, string | undefined>> {
  const res = await client.get(`${url}?format=json`)
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${res.body.slice(0, 300)}`)
  return (JSON.parse(res.body) as { headers: Record<string, string | undefined> }).headers
}

const accountsYaml = (file: string, contact = 'le secrétariat du DPI (poste 4321)') => `accounts:
  source: file
  file: ${file}
  contact: "${contact}"
`

t.test("hot reload and an edited mapping file: the next requests' account headers follow", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'psc-pairs-accounts-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'accounts.csv')
  writeFileSync(file, `rpps,idNat,login,displayName,groups\n${RPPS},,edubois,Élodie Dubois,DPI-Medecins\n`)
  let offset = 0
  const now = () => Date.now() + offset
  const userOnly = '  identity: { X-PSC-IdNat: idNat, X-Remote-User: accountLogin }\n'
  const withGroups = '  identity: { X-PSC-IdNat: idNat, X-Remote-User: accountLogin, X-Remote-Groups: accountGroups }\n'
  const stack = await startStack({ headersYaml: userOnly, extraYaml: accountsYaml(file), now })
  t.teardown(() => stack.close())
  const next = (o: StackOptions) => () =>
    loadConfigText(
      stackYaml({
        port: Number(new URL(stack.url).port),
        issuer: stack.emulator!.issuer,
        upstreamUrl: stack.upstream.url,
        ...o,
      }),
      'test-stack.yaml',
      { TEST_CLIENT_SECRET: CLIENT_SECRET },
    ).config

  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${stack.url}/dossier/1`, MEDECIN)
  const before = await headersOf(client, `${stack.url}/dossier/1`)
  t.equal(before['x-remote-user'], 'edubois', 'the account from the mapping file')
  t.equal(before['x-remote-groups'], undefined, 'groups not forwarded yet')

  // A reload adds the groups header: the same session, no new login, no lookup, the groups it holds.
  t.same(stack.gateway.reloadFrom(next({ headersYaml: withGroups, extraYaml: accountsYaml(file) })), { ok: true })
  const reloaded = await headersOf(client, `${stack.url}/dossier/1`)
  t.equal(
    reloaded['x-remote-groups'],
    'DPI-Medecins',
    'the reloaded headers section forwards the groups the session holds',
  )
  t.equal(reloaded['x-remote-user'], 'edubois')

  // The accounts section itself is wired at start-up: a reload changing it is refused, naming it,
  // and the headers stay as they were.
  const refused = stack.gateway.reloadFrom(
    next({ headersYaml: userOnly, extraYaml: accountsYaml(file, 'le service informatique') }),
  )
  t.equal(refused.ok, false, 'a change to accounts: needs a restart')
  t.match(!refused.ok && refused.error, /accounts/)
  t.equal(
    (await headersOf(client, `${stack.url}/dossier/1`))['x-remote-groups'],
    'DPI-Medecins',
    'the previous configuration stays in force',
  )

  // The mapping file is edited (renamed login, one more group): re-read at the next login...
  writeFileSync(
    file,
    `rpps,idNat,login,displayName,groups\n${RPPS},,elodie.dubois,Élodie Dubois,DPI-Medecins|DPI-Admins\n`,
  )
  const fresh = new BrowserLikeClient()
  await loginThroughEmulator(fresh, `${stack.url}/dossier/2`, MEDECIN)
  const seenFresh = await headersOf(fresh, `${stack.url}/dossier/2`)
  t.equal(seenFresh['x-remote-user'], 'elodie.dubois', 'a new login reads the edited file, no restart')
  t.equal(seenFresh['x-remote-groups'], 'DPI-Medecins,DPI-Admins')
  // ...while the older session keeps the account it holds (no per-request lookup)...
  t.equal(
    (await headersOf(client, `${stack.url}/dossier/1`))['x-remote-user'],
    'edubois',
    'an open session: its account, until it is due',
  )
  // ...until its account is due again (refreshEvery, 15 min): renewed aside, then forwarded.
  offset = 16 * 60_000
  const deadline = Date.now() + 5000
  let user: string | undefined
  do {
    user = (await headersOf(client, `${stack.url}/dossier/1`))['x-remote-user']
    if (user !== 'edubois') break
    await new Promise((r) => setTimeout(r, 100))
  } while (Date.now() < deadline)
  t.equal(user, 'elodie.dubois', 'the open session follows the edited file once its account is due')
  t.equal((await headersOf(client, `${stack.url}/dossier/1`))['x-remote-groups'], 'DPI-Medecins,DPI-Admins')
})

t.test(
  'replicas sharing Redis: logged in on A, B forwards the account the session holds, without its own lookup',
  async (t) => {
    const redis = await startRedis()
    t.teardown(() => redis.close())
    const dir = mkdtempSync(join(tmpdir(), 'psc-pairs-accounts-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    // Each replica has its own copy of the mapping; B's is out of date (another login, no groups): if
    // B looked the account up instead of taking it from the session, the headers would say so.
    const fileA = join(dir, 'a.csv')
    const fileB = join(dir, 'b.csv')
    writeFileSync(
      fileA,
      `rpps,idNat,login,displayName,groups\n${RPPS},,edubois,Élodie Dubois,DPI-Medecins|DPI-Admins\n`,
    )
    writeFileSync(fileB, `rpps,idNat,login,displayName,groups\n${RPPS},,ancien.login,Élodie Dubois,\n`)
    const [portA, portB] = [await freePort(), await freePort()]
    const emulator = await startEmulator({
      port: 0,
      clients: [
        {
          ...emulatorClientFor(portA),
          redirectUris: [portA, portB].map((p) => `http://127.0.0.1:${p}/_psc/callback`),
          postLogoutRedirectUris: [portA, portB].map((p) => `http://127.0.0.1:${p}/_psc/logged-out`),
        },
      ],
    })
    t.teardown(() => emulator.close())
    const headersYaml =
      '  identity: { X-PSC-IdNat: idNat, X-Remote-User: accountLogin, X-Remote-Groups: accountGroups }\n'
    const a = await startStack({
      port: portA,
      emulator,
      redisUrl: redis.url,
      headersYaml,
      extraYaml: accountsYaml(fileA),
    })
    t.teardown(() => a.close())
    const b = await startStack({
      port: portB,
      emulator,
      redisUrl: redis.url,
      headersYaml,
      extraYaml: accountsYaml(fileB),
    })
    t.teardown(() => b.close())

    const client = new BrowserLikeClient()
    await loginThroughEmulator(client, `${a.url}/dossier/1`, MEDECIN)
    const onA = await headersOf(client, `${a.url}/dossier/1`)
    t.equal(onA['x-remote-user'], 'edubois')

    client.setCookie(b.url, { name: 'psc_session', value: client.cookieValue(a.url, 'psc_session')! })
    const onB = await headersOf(client, `${b.url}/dossier/1`)
    t.equal(onB['x-psc-idnat'], MEDECIN, 'B knows the session')
    t.equal(onB['x-remote-user'], 'edubois', "B forwards the account found at login on A, not its own mapping's")
    t.equal(onB['x-remote-groups'], 'DPI-Medecins,DPI-Admins', 'with its groups')
    t.notOk(
      b.audit.some((e) => e.event === 'login'),
      'no login on B',
    )

    // A client-sent account header is stripped on B too.
    const forged = await client.get(`${b.url}/dossier/1?format=json`, { headers: { 'X-Remote-User': 'admin' } })
    t.equal((JSON.parse(forged.body) as { headers: Record<string, string> }).headers['x-remote-user'], 'edubois')
  },
)
