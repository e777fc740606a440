// npm run soak [-- --seconds 180 --workers 20]
//
// Several replicas sharing Redis under steady load for a few minutes, with a Redis restart and an
// upstream restart in the middle. Every response is checked: the identity the upstream received
// must be the session's own. Reports requests served, errors by class, each replica's RSS at start
// and end, sessions lost (must be 0: Redis persists), and wrong identities (must be 0). Bounded:
// it stops by itself; everything it starts is stopped.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startEmulator } from '../dev/emulator/index.js'
import { BrowserLikeClient } from '../test/helpers/browser-like-client.js'
import { loginThroughEmulator } from '../test/helpers/emulator-login.js'
import { startRedis } from '../test/helpers/redis.js'
import { CLIENT_ID, CLIENT_SECRET, freePort, stackYaml } from '../test/helpers/stack.js'
import { ROOT } from './harness.js'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: process.env.SOAK_SECONDS ?? '180' },
    workers: { type: 'string', default: process.env.SOAK_WORKERS ?? '20' },
  },
})
const SECONDS = Number(values.seconds)
const WORKERS = Number(values.workers)
const PRACTITIONERS = [
  '899700218896',
  '899700367915',
  '0012345678',
  '899700412345',
  '500000001815646/CPAT00045',
  '899700555555',
]

const children: ChildProcess[] = []
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
})

function spawnReady(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  children.push(child)
  let err = ''
  child.stderr!.on('data', (c: Buffer) => {
    err = (err + c.toString()).slice(-4000)
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready: ${args.join(' ')}\n${err}`)), 30_000)
    child.stdout!.on('data', (c: Buffer) => {
      if (/READY|psc-gateway listening/.test(c.toString())) {
        clearTimeout(timer)
        resolve(child)
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`exited ${code}: ${args.join(' ')}\n${err}`))
    })
  })
}

const rssMb = (pid: number | undefined) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : Number.NaN
}

interface Session {
  idNat: string
  cookie: string
}

function get(agent: Agent, url: string, cookie: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { cookie, accept: 'application/json' }, timeout: 10_000 }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end()
  })
}

async function main(): Promise<void> {
  const redis = await startRedis()
  const upstreamPort = await freePort()
  const startUpstream = () => spawnReady(['bench/soak-upstream.ts', String(upstreamPort)])
  let upstream = await startUpstream()
  const ports = [await freePort(), await freePort()]
  const urls = ports.map((p) => `http://127.0.0.1:${p}`)
  const emulator = await startEmulator({
    port: 0,
    clients: [
      {
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUris: urls.map((u) => `${u}/_psc/callback`),
        postLogoutRedirectUris: urls.map((u) => `${u}/_psc/logged-out`),
      },
    ],
  })
  const dir = mkdtempSync(join(tmpdir(), 'psc-soak-'))
  const replicas: ChildProcess[] = []
  for (const [i, port] of ports.entries()) {
    const file = join(dir, `replica-${i}.yaml`)
    writeFileSync(
      file,
      stackYaml({
        port,
        issuer: emulator.issuer,
        upstreamUrl: `http://127.0.0.1:${upstreamPort}`,
        redisUrl: redis.url,
      }).replace('level: info', 'level: warn'),
    )
    replicas.push(await spawnReady(['src/cli.ts', 'serve', '--config', file], { TEST_CLIENT_SECRET: CLIENT_SECRET }))
    replicas[i]!.stdout!.resume()
  }

  // Two sessions per practitioner, logged in through alternating replicas.
  const sessions: Session[] = []
  for (const [i, idNat] of [...PRACTITIONERS, ...PRACTITIONERS].entries()) {
    const client = new BrowserLikeClient()
    const url = urls[i % 2]!
    await loginThroughEmulator(client, `${url}/`, idNat)
    sessions.push({ idNat, cookie: `psc_session=${client.cookieValue(url, 'psc_session')}` })
  }
  const agents = urls.map(() => new Agent({ keepAlive: true, maxSockets: WORKERS }))
  const rssStart = replicas.map((r) => rssMb(r.pid))
  process.stdout.write(
    `soak: ${SECONDS} s, ${WORKERS} workers, ${replicas.length} replicas, Redis store, ${sessions.length} sessions of ${PRACTITIONERS.length} practitioners\n`,
  )

  const counts = new Map<string, number>()
  const count = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1)
  let wrongIdentity = 0
  let served = 0
  const started = Date.now()
  const endAt = started + SECONDS * 1000
  const events: string[] = []

  const worker = async (w: number) => {
    for (let n = 0; Date.now() < endAt; n++) {
      const s = sessions[(w * 7 + n) % sessions.length]!
      const r = (w + n) % urls.length
      try {
        const res = await get(agents[r]!, `${urls[r]}/soak/${w}/${n}`, s.cookie)
        if (res.status === 200) {
          const seen = (JSON.parse(res.body) as { idNat: string | null }).idNat
          const expected = encodeURIComponent(s.idNat).replace(/%2F/g, '%2F')
          if (seen === expected || (seen !== null && decodeURIComponent(seen) === s.idNat)) {
            served++
            count('200 right identity')
          } else {
            wrongIdentity++
            count(`200 WRONG IDENTITY (${seen})`)
          }
        } else {
          count(`${res.status}`)
        }
      } catch (err) {
        count(`connection error: ${(err as Error).message}`)
        await new Promise((r2) => setTimeout(r2, 50))
      }
    }
  }
  const faults = (async () => {
    await new Promise((r) => setTimeout(r, (SECONDS * 1000) / 3))
    events.push(`${((Date.now() - started) / 1000).toFixed(0)} s: Redis restart`)
    await redis.stop()
    await new Promise((r) => setTimeout(r, 2000))
    await redis.start()
    await new Promise((r) => setTimeout(r, (SECONDS * 1000) / 3 - 2000))
    events.push(`${((Date.now() - started) / 1000).toFixed(0)} s: upstream restart`)
    upstream.kill('SIGTERM')
    await new Promise((r) => upstream.once('exit', r))
    await new Promise((r) => setTimeout(r, 1000))
    upstream = await startUpstream()
  })()
  await Promise.all([...Array.from({ length: WORKERS }, (_, w) => worker(w)), faults])
  const rssEnd = replicas.map((r) => rssMb(r.pid))

  // Sessions lost: every session must still work on every replica after the faults.
  let lost = 0
  for (const s of sessions) {
    for (const [r, url] of urls.entries()) {
      const res = await get(agents[r]!, `${url}/after`, s.cookie).catch(() => ({ status: 0, body: '' }))
      if (res.status !== 200) {
        lost++
        break
      }
    }
  }

  const elapsed = (Date.now() - started) / 1000
  const total = [...counts.values()].reduce((a, b) => a + b, 0)
  process.stdout.write(`\nevents: ${events.join('; ')}\n`)
  process.stdout.write(
    `requests: ${total} in ${elapsed.toFixed(0)} s (${(total / elapsed).toFixed(0)}/s); served with the right identity: ${served}\n`,
  )
  process.stdout.write(
    `by class:\n${[...counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `  ${k.padEnd(40)} ${v}`)
      .join('\n')}\n`,
  )
  process.stdout.write(
    `RSS per replica (MB): start ${rssStart.map((m) => m.toFixed(1)).join(', ')}; end ${rssEnd.map((m) => m.toFixed(1)).join(', ')}\n`,
  )
  process.stdout.write(`sessions lost: ${lost} of ${sessions.length}   (target 0: ${lost === 0 ? 'PASS' : 'MISSED'})\n`)
  process.stdout.write(
    `responses with another user's identity: ${wrongIdentity}   (target 0: ${wrongIdentity === 0 ? 'PASS' : 'MISSED'})\n`,
  )

  for (const a of agents) a.destroy()
  for (const r of replicas) r.kill('SIGTERM')
  upstream.kill('SIGTERM')
  await emulator.close()
  await redis.close()
}

const watchdog = setTimeout(
  () => {
    process.stderr.write('soak: watchdog, stopping\n')
    process.exit(1)
  },
  (SECONDS + 120) * 1000,
)
watchdog.unref()
main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`soak failed: ${err instanceof Error ? err.stack : String(err)}\n`)
    process.exit(1)
  },
)
