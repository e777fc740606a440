// Reads V8 CPU profiles (.cpuprofile, as BENCH_CPU_PROF=1 npm run bench writes them) and prints the
// self time by function and by file (or package), busiest first, in ms and in % of the busy time.
//
// Usage: tsx bench/profile-summary.ts [--top 40] [--requests N] FILE.cpuprofile...
//   --requests N   also print µs per request (the profile's requests, e.g. the access lines written)
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

const { values: args, positionals: files } = parseArgs({
  options: { top: { type: 'string', default: '40' }, requests: { type: 'string' } },
  allowPositionals: true,
})
if (files.length === 0) {
  process.stderr.write('usage: profile-summary.ts [--top N] [--requests N] FILE.cpuprofile...\n')
  process.exit(2)
}
const top = Number(args.top)
const requests = args.requests === undefined ? undefined : Number(args.requests)

/** Where a frame's code lives: a package of node_modules, a file of ours, node's own, or V8. */
function placeOf(url: string): string {
  if (url === '') return '(native / V8)'
  const nm = url.lastIndexOf('node_modules/')
  if (nm !== -1) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/')
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!
  }
  if (url.startsWith('node:')) return url
  const dist = url.indexOf('/dist/')
  if (dist !== -1) return url.slice(dist + 1)
  return url.replace(/^file:\/\//, '')
}

const byFunction = new Map<string, number>()
const byPlace = new Map<string, number>()
let total = 0
let idle = 0
for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]))
  for (let i = 0; i < profile.samples.length; i++) {
    const node = nodes.get(profile.samples[i]!)
    const us = profile.timeDeltas[i] ?? 0
    if (node === undefined) continue
    const { functionName, url, lineNumber } = node.callFrame
    total += us
    if (functionName === '(idle)' || functionName === '(program)' || functionName === '(root)') {
      if (functionName === '(idle)') idle += us
      byFunction.set(functionName, (byFunction.get(functionName) ?? 0) + us)
      continue
    }
    const place = placeOf(url)
    const key = `${functionName || '(anonymous)'}  ${place}:${lineNumber + 1}`
    byFunction.set(key, (byFunction.get(key) ?? 0) + us)
    byPlace.set(place, (byPlace.get(place) ?? 0) + us)
  }
}

const busy = total - idle
const row = (name: string, us: number) => {
  const perRequest = requests === undefined ? '' : `${(us / requests).toFixed(2).padStart(9)} µs/req`
  return `${(us / 1000).toFixed(1).padStart(10)} ms ${((100 * us) / busy).toFixed(1).padStart(6)} %${perRequest}  ${name}\n`
}
const print = (title: string, map: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`)
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(row(name, us))
}
process.stdout.write(
  `${files.length} profile(s): ${(total / 1000).toFixed(0)} ms sampled, ${(idle / 1000).toFixed(0)} ms idle, busy ${(busy / 1000).toFixed(0)} ms` +
    (requests === undefined
      ? ''
      : `, ${((busy / requests) | 0).toFixed(0)} µs busy per request over ${requests} requests`) +
    '\n',
)
print('self time by file or package (busy time)', byPlace)
print('self time by function', byFunction)
