// The gateway process of `npm run bench:sessions`: the compiled gateway (dist/, as in production),
// alone in its process. Reads its YAML from stdin's first line (JSON string), listens, prints READY;
// then on a line `fill <cookie-session-id> <N>` creates N sessions shaped like that one and prints
// `FILLED {rss, heapUsed, samples}` (sample ids to check over HTTP). DIAG=1: also prints to stderr
// where the RSS goes (memoryUsage, V8's heap spaces, /proc's anonymous vs file-backed pages).
import { createInterface } from 'node:readline'
import { readFileSync } from 'node:fs'
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8'
import { loadConfigText } from '../dist/config/load.js'
import { buildGateway } from '../dist/gateway.js'

const lines = createInterface({ input: process.stdin })
const iterator = lines[Symbol.asyncIterator]()
const first = await iterator.next()
const { yaml, env } = JSON.parse(first.value)
const { config } = loadConfigText(yaml, 'bench.yaml', env)
config.log.level = 'warn'
// the default bound (100,000) holds the 50,000 sessions; lru-cache preallocates its arrays to this bound
config.session.store.maxSessions = Math.max(config.session.store.maxSessions, 60_000)
const gateway = await buildGateway(config, { audit: { write() {} }, processMetrics: false })
await gateway.psc.start()
await gateway.listen()
process.stdout.write(`READY ${JSON.stringify({ url: config.publicUrl })}\n`)

const unique = (s, i) => `${s.slice(0, -8)}${String(i).padStart(8, '0')}`
for (;;) {
  const next = await iterator.next()
  if (next.done) break
  const [command, templateId, count] = next.value.split(' ')
  if (command !== 'fill') continue
  const template = await gateway.sessions.store.get(templateId)
  if (!template) throw new Error('template session not found')
  const samples = []
  globalThis.gc?.()
  const before = process.memoryUsage()
  for (let i = 0; i < Number(count); i++) {
    // Each session gets its own strings (JSON round trip), as sessions made by separate logins would.
    const identity = JSON.parse(JSON.stringify(template.identity))
    identity.idNat = unique(identity.idNat, i)
    identity.sub = unique(identity.sub, i)
    const { id } = await gateway.sessions.create({
      identity,
      idToken: unique(template.idToken, i),
      accessToken: unique(template.accessToken, i),
      refreshToken: unique(template.refreshToken, i),
      accessTokenExpiresAt: template.accessTokenExpiresAt,
      pscSid: unique(template.pscSid, i)
    })
    if (i % 997 === 0) samples.push(id)
  }
  globalThis.gc?.()
  const after = process.memoryUsage()
  if (process.env.DIAG) {
    const m = (b) => (b / 2 ** 20).toFixed(1)
    process.stderr.write(`DIAG before ${JSON.stringify(Object.fromEntries(Object.entries(before).map(([k, v]) => [k, m(v)])))}\n`)
    process.stderr.write(`DIAG after ${JSON.stringify(Object.fromEntries(Object.entries(after).map(([k, v]) => [k, m(v)])))}\n`)
    for (const s of getHeapSpaceStatistics()) process.stderr.write(`DIAG space ${s.space_name} size ${m(s.space_size)} used ${m(s.space_used_size)} avail ${m(s.space_available_size)} phys ${m(s.physical_space_size)}\n`)
    const h = getHeapStatistics()
    process.stderr.write(`DIAG heap total ${m(h.total_heap_size)} phys ${m(h.total_physical_size)} used ${m(h.used_heap_size)} malloced ${m(h.malloced_memory)} peakmalloc ${m(h.peak_malloced_memory)} limit ${m(h.heap_size_limit)} ext ${m(h.external_memory)}\n`)
    process.stderr.write(readFileSync('/proc/self/smaps_rollup', 'utf8').split('\n').filter((l) => /Rss|Anon|Private|Shared/.test(l)).map((l) => `DIAG ${l}`).join('\n') + '\n')
    process.stderr.write(readFileSync('/proc/self/status', 'utf8').split('\n').filter((l) => /Threads|VmRSS|RssAnon|RssFile/.test(l)).map((l) => `DIAG ${l}`).join('\n') + '\n')
  }
  process.stdout.write(`FILLED ${JSON.stringify({ before, after, size: gateway.sessions.store.size(), samples })}\n`)
}
await gateway.close()
process.exit(0)
