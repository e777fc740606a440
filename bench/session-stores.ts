// npm run bench:stores [-- --duration 10 --warmup 2 --connections 50]
//
// The same gateway, once with the memory session store and once with the Redis store (a real
// redis-server on loopback), each with a valid session on an authenticated route; target: Redis at
// least 0.7 × the memory store's requests/s. Each gateway runs in its own process; autocannon here.
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { BrowserLikeClient } from '../test/helpers/browser-like-client.js'
import { loginThroughEmulator } from '../test/helpers/emulator-login.js'
import { startRedis } from '../test/helpers/redis.js'
import { buildDist, killAll, measure, ROOT, startChild, stopChildren, type Measured } from './harness.js'

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: process.env.BENCH_DURATION ?? '10' },
    warmup: { type: 'string', default: process.env.BENCH_WARMUP ?? '2' },
    connections: { type: 'string', default: process.env.BENCH_CONNECTIONS ?? '50' },
  },
})
const LOAD = { duration: Number(args.duration), warmup: Number(args.warmup), connections: Number(args.connections) }
const TARGET = 0.7
const AUDIT_FILE = join(ROOT, 'test-output', 'bench', 'audit-stores.log')

async function main(): Promise<void> {
  buildDist()
  process.stdout.write(
    `psc-gateway session store bench: ${cpus().length} cores, node ${process.version}, load avg ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n` + `${LOAD.connections} connections, warm-up ${LOAD.warmup} s + ${LOAD.duration} s per store\n\n`,
  )
  const redis = await startRedis()
  try {
    const { info: upstream } = await startChild<{ url: string }>('upstream', 'upstream.ts', [])
    const results: Measured[] = []
    for (const store of ['memory', 'redis'] as const) {
      const env = store === 'redis' ? { BENCH_REDIS_URL: redis.url } : {}
      const { info: gateway } = await startChild<{ url: string }>(
        `gateway (${store})`,
        'gateway-server.ts',
        [upstream.url, AUDIT_FILE],
        [],
        30_000,
        env,
      )
      const client = new BrowserLikeClient()
      const landed = await loginThroughEmulator(client, `${gateway.url}/bench/login`, '899700218896')
      const session = client.cookieValue(gateway.url, 'psc_session')
      if (landed.status !== 200 || !session) throw new Error(`login failed on the ${store} gateway (${landed.status})`)
      results.push(
        await measure(LOAD, {
          label: `gateway (${store})`,
          url: `${gateway.url}/bench/item`,
          headers: { cookie: `psc_session=${session}` },
        }),
      )
    }
    await stopChildren()
    const [memory, red] = results as [Measured, Measured]
    for (const r of results)
      process.stdout.write(
        `${r.label.padEnd(18)} ${r.reqPerSec.toFixed(1).padStart(9)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  non-2xx ${r.non2xx}  errors ${r.errors}\n`,
      )
    const ratio = red.reqPerSec / memory.reqPerSec
    process.stdout.write(
      `\nredis / memory req/s: ${ratio.toFixed(2)}×   target ≥ ${TARGET}×   ${ratio >= TARGET ? 'PASS' : 'MISSED'}\n`,
    )
  } finally {
    await redis.close()
  }
}

const watchdog = setTimeout(
  () => {
    process.stderr.write('bench: timed out\n')
    killAll('SIGKILL')
    process.exit(1)
  },
  (2 * (LOAD.warmup + LOAD.duration) + 90) * 1000,
)
watchdog.unref()
main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`)
    killAll('SIGKILL')
    process.exit(1)
  },
)
