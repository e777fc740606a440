// Redis Sentinel without session.store.url, as the Helm chart renders it: a real redis-server and
// a real Sentinel (redis-server --sentinel) on loopback; the configuration names only the Sentinels
// and the master's name, and the store finds the master through them. This used to be refused
// ("requires session.store.url"), so a Sentinel install through the chart could never start.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import t from 'tap'
import { loadConfigText } from '../../src/config/load.js'
import { createSessionStore } from '../../src/session/create-store.js'
import type { RedisSessionStore } from '../../src/session/redis-store.js'
import { startRedis } from '../helpers/redis.js'
import { freePort } from '../helpers/stack.js'

t.test('the store finds the master through the Sentinels; no URL needed', async (t) => {
  const master = await startRedis()
  t.teardown(() => master.close())
  const sentinelPort = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'psc-sentinel-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const conf = join(dir, 'sentinel.conf')
  writeFileSync(
    conf,
    `port ${sentinelPort}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor gwmaster 127.0.0.1 ${master.port} 1\n`,
  )
  const sentinel = spawn(process.env.REDIS_SERVER ?? 'redis-server', [conf, '--sentinel'], { stdio: 'ignore' })
  t.teardown(() => {
    sentinel.kill('SIGTERM')
  })

  const yaml = `publicUrl: https://dpi.example.fr
psc: { environment: bas, clientId: my-client, clientSecret: not-used-here }
session:
  secrets: ["sentinel-test-session-secret-0123456789"]
  store:
    type: redis
    keyPrefix: "sentinel-test:"
    sentinel: { name: gwmaster, hosts: ["127.0.0.1:${sentinelPort}"] }
upstreams: { app: { url: "http://127.0.0.1:1" } }
routes: [{ name: app, upstream: app, access: authenticated }]
`
  const { config } = loadConfigText(yaml, 'sentinel.yaml', {})
  t.equal(config.session.store.url, undefined, 'no URL in the configuration')
  const store = createSessionStore(config.session.store) as RedisSessionStore
  t.teardown(() => store.close())
  await store.ready(15_000)
  t.same(await store.health(), { ok: true })
  t.equal(await store.rememberOnce('k1', 60_000), true, 'a write through the master found by Sentinel')
  t.equal(await store.rememberOnce('k1', 60_000), false, 'and read back')
  const direct = new Redis(master.url)
  t.teardown(() => direct.quit())
  t.equal(await direct.get('sentinel-test:once:k1'), '1', 'the key is in the master')
})
