// The audit trail of a real gateway over HTTP: exactly one access event per request, every event
// complete and valid against the published schema, denials naming their rule; and with the real
// file sink: no secret in any line, and the CLI's verify and query on the file.
import t from 'tap'
// Eight CLI runs below (a process start-up each) take minutes on a loaded machine.
t.setTimeout(450_000)
import { Value } from '@sinclair/typebox/value'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { AuditEventSchema, type LoginEvent } from '../../src/audit/event-schema.js'
import { auditEventsJsonSchemaText } from '../../src/audit/event-schema.js'
import { assertAuditLines } from './schema-lines.js'
import { BrowserLikeClient } from '../helpers/browser-like-client.js'
import { loginThroughEmulator } from '../helpers/emulator-login.js'
import { CLIENT_SECRET, SESSION_SECRET, startStack } from '../helpers/stack.js'
import { startAuditStack } from './audit-stack.js'
import { TYPESCRIPT_NODE_ARGS } from '../helpers/typescript-node.js'

const run = promisify(execFile)
const MEDECIN = '899700218896'
const PHARMACIEN = '899700367915'
const HMAC_KEY = 'audit-hmac-key-for-tests-7f3a9c1e5b2d8f4a6c0e'

t.test('the published schema is the one the code describes', async (t) => {
  t.equal(
    readFileSync('docs/audit-events.schema.json', 'utf8'),
    auditEventsJsonSchemaText(),
    'regenerate: npx tsx src/audit/event-schema.ts > docs/audit-events.schema.json',
  )
})

t.test('every request produces exactly one access event, complete, schema-valid', async (t) => {
  const stack = await startStack()
  t.teardown(() => stack.close())
  let requests = 0
  stack.gateway.app.server.on('request', () => {
    requests++
  })

  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${stack.url}/dossier/42?tab=notes`, MEDECIN)
  await client.get(`${stack.url}/dossier/43?secret-looking=query`)
  await client.get(`${stack.url}/pharmacie/stock`)
  await client.get(`${stack.url}/_psc/me`)
  await client.get(`${stack.url}/_psc/nothing-here`)
  await fetch(`${stack.url}/a%2Fb`)
  await fetch(`${stack.url}/dossier`, { headers: { accept: 'application/json' } })
  await client.follow(`${stack.url}/_psc/logout`)
  const pharmacien = new BrowserLikeClient()
  await loginThroughEmulator(pharmacien, `${stack.url}/medecins/`, PHARMACIEN)

  // The access event is written when the response is done, just after the client has it.
  for (let i = 0; i < 50 && stack.audit.filter((e) => e.event === 'access').length < requests; i++)
    await new Promise((r) => setTimeout(r, 20))
  const access = stack.audit.filter((e) => e.event === 'access')
  t.equal(access.length, requests, `one access event for each of the ${requests} requests`)
  t.equal(new Set(access.map((e) => e.requestId)).size, access.length, 'one per request id')
  for (const e of stack.audit) {
    if (!Value.Check(AuditEventSchema, e))
      t.fail(
        `event does not match the schema: ${JSON.stringify(e)} ${JSON.stringify([...Value.Errors(AuditEventSchema, e)].slice(0, 2).map((x) => `${x.path} ${x.message}`))}`,
      )
  }
  t.match(stack.audit[0], { event: 'config', outcome: 'loaded', v: 1 }, 'the configuration in force is the first event')
  for (const e of access) {
    t.match(e, {
      v: 1,
      time: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
      requestId: /^[0-9a-f-]{36}$/,
      client: '127.0.0.1',
      method: /^[A-Z]+$/,
      status: Number,
      durationMs: Number,
    })
    t.notOk(e.path.includes('?'), 'no query string')
  }

  const allowed = access.find((e) => e.path === '/dossier/43')
  t.match(allowed, {
    decision: 'allow',
    route: 'application',
    idNat: MEDECIN,
    profession: '10',
    status: 200,
    session: /^[A-Za-z0-9_-]{16}$/,
  })
  t.equal(allowed?.query, undefined, 'no query unless includeQuery')
  const denied = access.find((e) => e.path === '/pharmacie/stock')
  t.match(
    denied,
    {
      decision: 'deny',
      route: 'pharmacie',
      status: 403,
      idNat: MEDECIN,
      reason: 'PSC_ERR_DENIED_PROFESSION',
      detail: 'profession 10 not in [21]',
    },
    'a denial names its rule, its code and the technical detail',
  )
  const deniedPharmacien = access.find((e) => e.route === 'medecins-civils' && e.decision === 'deny')
  t.match(deniedPharmacien, { decision: 'deny', idNat: PHARMACIEN, profession: '21' })
  t.match(
    access.find((e) => e.path === '/dossier/42' && e.status === 302),
    { decision: 'login', route: 'application' },
  )
  t.match(
    access.find((e) => e.path === '/dossier' && e.status === 401),
    { decision: 'login' },
  )
  t.match(
    access.find((e) => e.path === '/_psc/nothing-here'),
    { decision: 'reject', status: 404, reason: 'PSC_ERR_NO_ROUTE' },
  )
  t.match(
    access.find((e) => e.status === 400),
    { decision: 'reject', path: '(invalid)', reason: 'PSC_ERR_INVALID_TARGET' },
  )
  t.match(
    access.find((e) => e.route === 'gateway:login'),
    { decision: 'login', status: 302 },
    'a login start is a login, not an allow',
  )
  t.match(
    access.find((e) => e.route === 'gateway:callback' && e.idNat === MEDECIN),
    { decision: 'allow', status: 302, session: String },
  )
  t.match(
    access.find((e) => e.route === 'gateway:me'),
    { decision: 'allow', status: 200 },
  )

  const login = stack.audit.find(
    (e): e is LoginEvent => e.event === 'login' && e.outcome === 'succeeded' && e.idNat === MEDECIN,
  )
  t.match(login, {
    acr: 'eidas1',
    authMode: String,
    profession: '10',
    route: 'gateway:callback',
    method: 'GET',
    path: '/_psc/callback',
    status: 302,
    session: String,
  })
  t.ok(stack.audit.find((e) => e.event === 'login' && e.outcome === 'started'))
  t.match(
    stack.audit.find((e) => e.event === 'session' && e.outcome === 'created' && e.idNat === MEDECIN),
    { session: login?.session },
  )
  t.match(
    stack.audit.find((e) => e.event === 'logout' && e.cause === 'user'),
    { idNat: MEDECIN, session: login?.session, route: 'gateway:logout' },
  )
  t.match(
    stack.audit.find((e) => e.event === 'session' && e.outcome === 'ended' && e.reason === 'logout'),
    { session: login?.session },
  )
})

t.test("includeQuery writes the query of proxied requests, never of the gateway's own endpoints", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'audit-q-'))
  const file = join(dir, 'audit.log')
  const stack = await startAuditStack({
    auditYaml: `audit:\n  stdout: false\n  file: ${file}\n  hmacKey: \${AUDIT_HMAC_KEY}\n  includeQuery: true\n`,
    env: { AUDIT_HMAC_KEY: HMAC_KEY },
  })
  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${stack.url}/x?a=1`, MEDECIN)
  await stack.close()
  const events = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
  t.match(
    events.find((e) => e.path === '/x' && e.status === 200),
    { query: 'a=1' },
  )
  t.notOk(
    events.some((e) => typeof e.path === 'string' && e.path.startsWith('/_psc') && e.query !== undefined),
    'no query (code, state) for /_psc',
  )
})

// Eight CLI runs (a process start-up each): slow on a loaded machine.
t.test('the audit file: no secret in any line; verify and query through the CLI', { timeout: 400_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'audit-file-'))
  const file = join(dir, 'audit.log')
  const stack = await startAuditStack({
    auditYaml: `audit:\n  stdout: false\n  file: ${file}\n  hmacKey: \${AUDIT_HMAC_KEY}\n`,
    env: { AUDIT_HMAC_KEY: HMAC_KEY },
  })
  const client = new BrowserLikeClient()
  await loginThroughEmulator(client, `${stack.url}/dossier?code=should-not-appear`, MEDECIN)
  await client.get(`${stack.url}/pharmacie/`)
  const cookie = client.cookies(stack.url).find((c) => c.name === 'psc_session')!.value
  const sessionId = decodeURIComponent(cookie).split('.')[0]!
  const record = await stack.gateway.sessions.store.get(sessionId)
  t.ok(record)
  const txCookies = client.cookies(stack.url).map((c) => c.value)
  await client.follow(`${stack.url}/_psc/logout`)
  await stack.close()

  const text = readFileSync(file, 'utf8')
  t.ok(text.split('\n').length > 10)
  assertAuditLines(t, text)
  const secrets: Record<string, string> = {
    'client secret': CLIENT_SECRET,
    'session secret': SESSION_SECRET,
    'HMAC key': HMAC_KEY,
    'session cookie': cookie,
    'session id': sessionId,
    'access token': record!.accessToken,
    'ID token': record!.idToken,
    'query string': 'should-not-appear',
  }
  if (record!.refreshToken) secrets['refresh token'] = record!.refreshToken
  for (const [i, v] of txCookies.entries()) secrets[`cookie ${i}`] = v
  for (const [name, value] of Object.entries(secrets)) t.notOk(text.includes(value), `no ${name} in the audit file`)
  t.notOk(/[?&]code=|"state"|authorization/i.test(text), 'no authorization code or state')
  const logs = stack.logs.join('')
  for (const [name, value] of Object.entries(secrets))
    t.notOk(logs.includes(value), `no ${name} in the operational log`)

  const cli = (args: string[], env: Record<string, string> = {}) =>
    run(process.execPath, [...TYPESCRIPT_NODE_ARGS, 'src/cli.ts', 'audit', ...args], {
      env: { ...process.env, ...env },
    }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    )
  const ok = await cli(['verify', file], { AUDIT_HMAC_KEY: HMAC_KEY })
  t.equal(ok.code, 0, ok.stdout + ok.stderr)
  t.match(ok.stdout, /^OK: 1 file\(s\), \d+ line\(s\), 1 chain start/)
  t.notOk(ok.stdout.includes(HMAC_KEY))

  const keyFile = join(dir, 'key')
  writeFileSync(keyFile, `${HMAC_KEY}\n`)
  t.equal((await cli(['verify', file, '--key-file', keyFile])).code, 0, '--key-file, trailing newline ignored')
  const noKey = await cli(['verify', file], { AUDIT_HMAC_KEY: '' })
  t.equal(noKey.code, 2)
  t.match(noKey.stderr, /set AUDIT_HMAC_KEY/)

  const lines = text.split('\n')
  lines[4] = lines[4]!.replace('"status":', '"status":1')
  const tampered = join(dir, 'tampered.log')
  writeFileSync(tampered, lines.join('\n'))
  const broken = await cli(['verify', tampered], { AUDIT_HMAC_KEY: HMAC_KEY })
  t.equal(broken.code, 1)
  t.match(broken.stdout, `${tampered}:5: edited`)

  const denies = await cli(['query', file, '--decision', 'deny', '--format', 'json'])
  t.equal(denies.code, 0)
  const found = denies.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
  t.equal(found.length, 1)
  t.match(found[0], { event: 'access', decision: 'deny', route: 'pharmacie', idNat: MEDECIN })
  const table = await cli(['query', file, '--idnat', MEDECIN, '--route', 'pharmacie'])
  t.match(
    table.stdout,
    /^TIME\s+EVENT\s+DECISION\s+IDNAT\s+ROUTE\s+METHOD\s+STATUS\s+PATH\n.*access\s+deny\s+899700218896\s+pharmacie\s+GET\s+403\s+\/pharmacie\/\n$/,
  )
  const csv = await cli(['query', file, '--event', 'login', '--format', 'csv', '--since', '1h'])
  t.match(csv.stdout, /^time,event,decision,idNat,route,method,path,status\n/)
  t.match(csv.stdout, /,login,succeeded,899700218896,gateway:callback,GET,\/_psc\/callback,302\n/)
  const none = await cli(['query', file, '--until', '2000-01-01', '--format', 'json'])
  t.equal(none.stdout, '')
  const bad = await cli(['query', file, '--since', 'yesterday'])
  t.equal(bad.code, 2)
})
