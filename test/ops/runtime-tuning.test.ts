// The node flags of a gateway process bound its young generation: a process given them that keeps
// many new objects alive (as when 50,000 sessions are made) keeps a new space of at most two 16 MB
// semi-spaces; without them Node 24 grows it to 2 × 64 MB on a machine with enough memory, and keeps
// those pages after a full GC.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { GATEWAY_NODE_FLAGS } from '../../src/ops/runtime-tuning.js'

const run = promisify(execFile)

// Objects that survive scavenges make V8 grow the young generation up to its bound.
const SCRIPT = `
const v8 = require('node:v8')
const keep = []
for (let i = 0; i < 1_500_000; i++) keep.push({ a: 'x' + i, b: [i, i + 1] })
globalThis.gc()
const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')
process.stdout.write(JSON.stringify({ size: ns.space_size, kept: keep.length }))
`

t.test('the young generation stays within two 16 MB semi-spaces under surviving allocations', async (t) => {
  const { stdout } = await run(process.execPath, [...GATEWAY_NODE_FLAGS, '--expose-gc', '-e', SCRIPT], {
    timeout: 60_000,
  })
  const { size, kept } = JSON.parse(stdout) as { size: number; kept: number }
  t.equal(kept, 1_500_000)
  t.ok(size <= 32 * 2 ** 20, `new space ${(size / 2 ** 20).toFixed(1)} MB ≤ 32 MB`)
})
